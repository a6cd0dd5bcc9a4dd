package handlers

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"sherpa/views"
)

// Limits of user input, shared by validation and the forms' maxlength.
const (
	maxName     = 100
	maxEmail    = 254
	minPassword = 10
	maxPassword = 256
)

// cleanText trims a form value and collapses it to a single line.
func cleanText(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func validName(errs views.Errors, field, name, what string) {
	switch {
	case name == "":
		errs[field] = what + " is required."
	case utf8.RuneCountInString(name) > maxName:
		errs[field] = what + " must be at most 100 characters."
	case !utf8.ValidString(name):
		errs[field] = what + " contains invalid characters."
	}
}

// validEmail checks a bare address such as ann@example.com.
func validEmail(errs views.Errors, field, email string) {
	if email == "" {
		errs[field] = "Email is required."
		return
	}
	if len(email) > maxEmail {
		errs[field] = "Email must be at most 254 characters."
		return
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") {
		errs[field] = "Enter an email address like name@company.com."
	}
}

func validPassword(errs views.Errors, field, password string) {
	n := utf8.RuneCountInString(password)
	switch {
	case password == "":
		errs[field] = "Password is required."
	case n < minPassword:
		errs[field] = "Password must be at least 10 characters."
	case n > maxPassword:
		errs[field] = "Password must be at most 256 characters."
	}
}
