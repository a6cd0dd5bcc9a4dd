package handlers

import (
	"sherpa/store"
	"sherpa/views"
)

// The rules of typed input (limits, what text may contain, what an email
// is) live in store/rules.go, shared by the store, these handlers and the
// templates. check puts a rule's message, if any, next to its field:
//
//	check(errs, "name", store.NameError("Team name", name))
func check(errs views.Errors, field, msg string) {
	if msg != "" {
		errs[field] = msg
	}
}

// cleanText is store.CleanText, kept for the Google tab forms until they
// call the store's rules directly.
func cleanText(s string) string { return store.CleanText(s) }
