package store

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The rules every piece of typed text follows, in one place: the store's
// validation, the handlers' checks, the forms' maxlength attributes and the
// messages all read them from here.

// Limits of user input, in characters (emails: bytes, as RFC 5321 counts).
const (
	MaxNameLen     = 100 // a person's, team's, contact's or deal's name
	MaxEmailLen    = 254
	MaxPhoneLen    = 40
	MinPhoneDigits = 3
	MaxCompanyLen  = 100
	MaxNoteLen     = 10000
	MinPasswordLen = 10
	MaxPasswordLen = 256
	// MaxSearchLen bounds what a search box or picker sends; longer text is
	// cut, not refused.
	MaxSearchLen = 200
	// The Google tab forms.
	MaxEmailSubjectLen       = 200
	MaxEmailBodyLen          = 20000
	MaxTaskTitleLen          = 500
	MaxMeetingTitleLen       = 200
	MaxMeetingDescriptionLen = 5000
)

// CleanText trims a single-line form value and collapses every run of white
// space (tabs and newlines included) to one space.
func CleanText(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// isControl reports the characters refused in text: C0 and C1 control
// characters and DEL. Tab, newline and carriage return are white space that
// CleanText removes from single-line fields and multi-line fields keep.
func isControl(r rune, multiline bool) bool {
	if multiline && (r == '\t' || r == '\n' || r == '\r') {
		return false
	}
	return unicode.IsControl(r)
}

// TextError is the message for a field whose text breaks the rules for all
// text: valid UTF-8 (the databases refuse or mangle anything else), no
// control characters (SQLite cannot take a NUL byte; MySQL would keep one, so
// both refuse them to behave the same), and at most max characters. Tab,
// newline and carriage return are allowed when multiline. "" means the text
// is fine; whether it is required is the caller's rule.
func TextError(label, s string, max int, multiline bool) string {
	if !utf8.ValidString(s) {
		return label + " contains characters that are not valid text (UTF-8)."
	}
	if strings.ContainsFunc(s, func(r rune) bool { return isControl(r, multiline) }) {
		return label + " can't contain control characters."
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		return fmt.Sprintf("%s must be at most %d characters.", label, max)
	}
	return ""
}

// NameError checks a required single-line name (already CleanText'ed) of at
// most MaxNameLen characters: "" when fine.
func NameError(label, name string) string {
	if name == "" {
		return label + " is required."
	}
	return TextError(label, name, MaxNameLen, false)
}

// ValidEmail accepts a bare address (no display name) with a dotted domain,
// as NormalizeEmail leaves it.
func ValidEmail(email string) bool {
	if len(email) > MaxEmailLen || strings.ContainsAny(email, " \t\r\n<>\"") ||
		strings.ContainsFunc(email, unicode.IsControl) {
		return false
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return false
	}
	local, domain, _ := strings.Cut(email, "@")
	if local == "" || len(local) > 64 || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return false
	}
	return true
}

// EmailError checks a required email address as typed: "" when fine. It
// looks at the text before NormalizeEmail, which would turn bytes that are
// not UTF-8 into replacement characters.
func EmailError(email string) string {
	if msg := TextError("Email", email, 0, false); msg != "" {
		return msg
	}
	email = NormalizeEmail(email)
	switch {
	case email == "":
		return "Email is required."
	case len(email) > MaxEmailLen:
		return fmt.Sprintf("Email must be at most %d characters.", MaxEmailLen)
	}
	if !ValidEmail(email) {
		return "Enter an email address like name@company.com."
	}
	return ""
}

// PasswordError checks a new password's length: "" when fine. Passwords are
// hashed, never stored or shown, so any character is allowed.
func PasswordError(password string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case password == "":
		return "Password is required."
	case n < MinPasswordLen:
		return fmt.Sprintf("Password must be at least %d characters.", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Sprintf("Password must be at most %d characters.", MaxPasswordLen)
	}
	return ""
}

// StripControl drops what TextError refuses, for text that must be kept
// rather than refused: bytes that are not UTF-8 and control characters
// other than tab, newline and carriage return.
func StripControl(s string) string {
	return strings.Map(func(r rune) rune {
		if isControl(r, true) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// CleanSearch makes typed search text safe to look for instead of refusing
// it (a search box has no place for a message): StripControl, white space
// collapsed, and the text cut to max characters (MaxSearchLen when max is
// 0).
func CleanSearch(q string, max int) string {
	if max <= 0 {
		max = MaxSearchLen
	}
	q = CleanText(StripControl(q))
	if utf8.RuneCountInString(q) > max {
		q = strings.TrimSpace(string([]rune(q)[:max]))
	}
	return q
}

// checkText puts TextError's message, if any, on the field.
func checkText(fe FieldErrors, field, label, v string, max int, multiline bool) {
	if msg := TextError(label, v, max, multiline); msg != "" {
		fe[field] = msg
	}
}

// MinDayYear and MaxDayYear bound the days people type or import (close
// dates, closing days, the board's and tables' date filters).
const MinDayYear, MaxDayYear = 1900, 2200

// ErrDayFormat and ErrDayRange are ParseDay's refusals.
var (
	ErrDayFormat = errors.New("not a day written YYYY-MM-DD")
	ErrDayRange  = fmt.Errorf("not a day between %d and %d", MinDayYear, MaxDayYear)
)

// DayInRange reports whether t's year lies between MinDayYear and MaxDayYear.
func DayInRange(t time.Time) bool { return t.Year() >= MinDayYear && t.Year() <= MaxDayYear }

// ParseDay reads a typed day (YYYY-MM-DD, surrounding space ignored) in loc.
func ParseDay(s string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), loc)
	switch {
	case err != nil:
		return time.Time{}, ErrDayFormat
	case !DayInRange(t):
		return time.Time{}, ErrDayRange
	}
	return t, nil
}
