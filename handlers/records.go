package handlers

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

// listState reads a table's view, search, sort and position from the URL.
// Unknown values fall back to the defaults instead of failing: a hand-edited
// URL still shows a page.
func listState(c *fiber.Ctx, path string, views_ []string, sorts []string) views.ListState {
	l := views.ListState{Path: path, View: c.Query("view"), Q: strings.TrimSpace(c.Query("q")), Sort: c.Query("sort"), Cursor: c.Query("cursor")}
	if !contains(views_, l.View) {
		l.View = "all"
	}
	if !contains(sorts, l.Sort) {
		l.Sort = ""
	}
	l.Desc = c.Query("dir") == "desc" && l.Sort != ""
	if len(l.Q) > 200 {
		l.Q = l.Q[:200]
	}
	if len(l.Cursor) > 512 {
		l.Cursor = ""
	}
	return l
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// wantsFragment reports whether htmx asked for a table fragment rather than
// a page (history restores and boosted links want the page).
func wantsFragment(c *fiber.Ctx) bool {
	return isHTMX(c) && c.Get("HX-History-Restore-Request") != "true"
}

// formID parses an optional id field ("" and "0" mean none).
func formID(c *fiber.Ctx, name string) (int64, bool) {
	v := strings.TrimSpace(c.FormValue(name))
	if v == "" {
		return 0, true
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil && id >= 0
}

// fieldErrors turns a store refusal into messages next to the fields; ok is
// false for errors that are not the user's input.
func fieldErrors(err error) (errs views.Errors, duplicateID int64, ok bool) {
	var fe store.FieldErrors
	var dup *store.DuplicateError
	switch {
	case errors.As(err, &fe):
		errs = views.Errors{}
		for k, v := range fe {
			errs[k] = v
		}
		return errs, 0, true
	case errors.As(err, &dup):
		return views.Errors{"email": "A contact with this email already exists."}, dup.ExistingID, true
	case errors.Is(err, store.ErrClosed):
		return views.Errors{"": sentence(store.ErrClosed)}, 0, true
	case errors.Is(err, store.ErrNotAllowed):
		return views.Errors{"": "Your role does not allow this change."}, 0, true
	}
	return nil, 0, false
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

func strconvAtoi(s string) (int, error) { return strconv.Atoi(s) }
