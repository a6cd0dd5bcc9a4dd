package handlers

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
	"sherpa/views"
)

// listState reads a table's view, search, sort and position from the URL.
// Unknown values fall back to the defaults instead of failing: a hand-edited
// URL still shows a page.
func listState(c *fiber.Ctx, path string, viewNames, sorts []string) views.ListState {
	l := views.ListState{Path: path, View: c.Query("view"), Q: store.CleanSearch(c.Query("q"), store.MaxSearchLen), Sort: c.Query("sort"), Cursor: c.Query("cursor")}
	if !slices.Contains(viewNames, l.View) {
		l.View = "all"
	}
	if !slices.Contains(sorts, l.Sort) {
		l.Sort = ""
	}
	l.Desc = c.Query("dir") == "desc" && l.Sort != ""
	if len(l.Cursor) > 512 {
		l.Cursor = ""
	}
	return l
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

// contactTabURL is the contact page opened on one of its tabs.
func contactTabURL(id int64, tab string) string {
	return "/contacts/" + strconv.FormatInt(id, 10) + "?tab=" + tab
}

// formVersion reads the version an edit form was opened at.
func formVersion(c *fiber.Ctx, errs views.Errors) int {
	version, err := strconv.Atoi(c.FormValue("version"))
	if err != nil {
		errs[""] = "This form is out of date; reload the page."
	}
	return version
}

// refusedSave sorts why an inline save of a contact or deal did not happen:
// someone else saved first (409; the caller shows the fresh record), or the
// input was refused (422 with the messages). Anything else comes back as an
// error for the error handler.
func refusedSave(err error, fresh bool) (status int, errs views.Errors, duplicateID int64, fail error) {
	switch {
	case errors.Is(err, store.ErrConflict) && fresh:
		return fiber.StatusConflict, views.Errors{}, 0, nil
	case errors.Is(err, store.ErrNotFound):
		return 0, nil, 0, err
	}
	errs, duplicateID, ok := fieldErrors(err)
	if !ok {
		return 0, nil, 0, err
	}
	return fiber.StatusUnprocessableEntity, errs, duplicateID, nil
}
