package handlers

import (
	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
	"sherpa/webhook"
)

// Webhook endpoints and their delivery log live on the team page, for its
// owner and admins.

func (s *Server) webhookRoutes(app *fiber.App) {
	g := app.Group("/team/webhooks", s.requireTeam, s.requireManager)
	g.Post("/", s.createWebhook)
	g.Post("/:id/delete", s.deleteWebhook)
	g.Post("/:id/enable", s.enableWebhook)
	g.Post("/deliveries/:id/redeliver", s.redeliverWebhook)
}

func (s *Server) webhooksView(c *fiber.Ctx) (*views.WebhooksView, error) {
	ctx, team := c.UserContext(), currentTeam(c)
	eps, err := s.store.WebhookEndpoints(ctx, team.ID)
	if err != nil {
		return nil, err
	}
	v := &views.WebhooksView{Endpoints: eps, Errs: views.Errors{}}
	if len(eps) > 0 {
		if v.Deliveries, err = s.store.WebhookDeliveries(ctx, team.ID, 0, 25); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (s *Server) createWebhook(c *fiber.Ctx) error {
	ctx, team, me := c.UserContext(), currentTeam(c), currentUser(c)
	rawURL := store.CleanText(c.FormValue("url"))
	var events []string
	for _, e := range c.Context().PostArgs().PeekMulti("events") {
		events = append(events, string(e))
	}
	errs := views.Errors{}
	check(errs, "url", store.ValidateWebhookURL(rawURL))
	if !errs.Any() {
		if err := webhook.CheckURL(ctx, rawURL, s.cfg.Webhooks.AllowPrivate); err != nil {
			errs["url"] = "Sherpa cannot send webhooks there: " + err.Error() + "."
		}
	}
	var ep *store.WebhookEndpoint
	if !errs.Any() {
		var err error
		ep, err = s.store.CreateWebhookEndpoint(ctx, team.ID, me, rawURL, events)
		if err != nil {
			var ok bool
			if errs, _, ok = fieldErrors(err); !ok {
				return err
			}
		}
	}
	v, err := s.teamView(c)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if errs.Any() {
		status = fiber.StatusUnprocessableEntity
		v.Webhooks.URL, v.Webhooks.Events, v.Webhooks.Errs = rawURL, events, errs
	} else {
		v.Webhooks.NewSecret, v.Webhooks.NewURL = ep.Secret, ep.URL
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, status, views.TeamPage(s.shell(c, "Team", "team"), v))
}

func (s *Server) deleteWebhook(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.DeleteWebhookEndpoint(c.UserContext(), currentTeam(c).ID, currentUser(c), id); err != nil {
		return err
	}
	s.flash(c, "success", "Webhook endpoint deleted.")
	return s.redirect(c, "/team#webhooks")
}

func (s *Server) enableWebhook(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.EnableWebhookEndpoint(c.UserContext(), currentTeam(c).ID, currentUser(c), id); err != nil {
		return err
	}
	s.flash(c, "success", "Webhook endpoint enabled again; its waiting deliveries go out now.")
	return s.redirect(c, "/team#webhooks")
}

func (s *Server) redeliverWebhook(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.RedeliverWebhook(c.UserContext(), currentTeam(c).ID, currentUser(c), id); err != nil {
		return err
	}
	s.flash(c, "success", "Delivery queued again.")
	return s.redirect(c, "/team#webhooks")
}
