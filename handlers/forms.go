package handlers

import "sherpa/views"

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
