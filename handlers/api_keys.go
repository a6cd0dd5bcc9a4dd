package handlers

import (
	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

// API keys are made and revoked on the profile page. A new key's token is
// rendered into the page that answers the form (not flashed through the
// session store): it exists in clear only in that one answer.

func (s *Server) apiKeyRoutes(app *fiber.App) {
	app.Post("/profile/api-keys", s.requireUser, s.createAPIKey)
	app.Post("/profile/api-keys/:id/revoke", s.requireUser, s.revokeAPIKey)
}

func (s *Server) apiKeysView(c *fiber.Ctx) (views.APIKeysView, error) {
	me := currentUser(c)
	keys, err := s.store.APIKeysOf(c.UserContext(), me.ID)
	if err != nil {
		return views.APIKeysView{}, err
	}
	// Keys of a team the user has left no longer work; they are listed so
	// they can be revoked, but a team is needed to make one.
	return views.APIKeysView{CanCreate: currentTeam(c) != nil, Keys: keys, Scope: store.ScopeRead, Errs: views.Errors{}}, nil
}

func (s *Server) createAPIKey(c *fiber.Ctx) error {
	name, scope := store.CleanText(c.FormValue("name")), c.FormValue("scope")
	status := fiber.StatusOK
	var token string
	var errs views.Errors
	if currentTeam(c) == nil {
		errs = views.Errors{"": "Join or create a team to make API keys."}
	} else {
		k, tok, err := s.store.CreateAPIKey(c.UserContext(), currentUser(c), name, scope)
		if err != nil {
			var ok bool
			if errs, _, ok = fieldErrors(err); !ok {
				return err
			}
		} else {
			token, name = tok, k.Name
		}
	}
	v, err := s.profileView(c)
	if err != nil {
		return err
	}
	if errs.Any() {
		status = fiber.StatusUnprocessableEntity
		v.APIKeys.Name, v.APIKeys.Scope, v.APIKeys.Errs = name, scope, errs
	} else {
		v.APIKeys.NewToken, v.APIKeys.NewName = token, name
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, status, views.ProfilePage(s.shell(c, "Profile", "profile"), v))
}

func (s *Server) revokeAPIKey(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.store.RevokeAPIKey(c.UserContext(), currentUser(c).ID, id); err != nil {
		return err
	}
	s.flash(c, "success", "API key revoked.")
	return s.redirect(c, "/profile#api-keys")
}
