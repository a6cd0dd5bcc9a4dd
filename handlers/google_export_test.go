package handlers

import (
	"context"
	"net/http/httptest"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"sherpa/google"
	"sherpa/store"
)

// CallGoogleAs runs fn with the client googleClient builds for the user, the
// way the contact page's tabs will, on a Server with cfg and st. It lets tests
// reach googleClient before any route uses it.
func CallGoogleAs(cfg Config, st *store.Store, log zerolog.Logger, userID int64, fn func(context.Context, *google.Client) error) error {
	s := &Server{cfg: cfg, store: st, log: log}
	var err error
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error {
		u, uerr := st.UserByID(c.UserContext(), userID)
		if uerr != nil {
			err = uerr
			return nil
		}
		c.Locals(localUser, u)
		cl, cerr := s.googleClient(c)
		if cerr != nil {
			err = cerr
			return nil
		}
		err = fn(c.UserContext(), cl)
		return nil
	})
	if _, terr := app.Test(httptest.NewRequest("GET", "/", nil), -1); terr != nil {
		return terr
	}
	return err
}
