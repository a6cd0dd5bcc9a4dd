package store

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Search terms: the pure half of search (no database). The planner and the
// SQL that reads the term tables are in search.go.
//
// Tokens (all lower-cased, accents removed):
//   - every word of the name and company ("O'Brien" gives o, brien and obrien);
//   - the whole email, "@" plus its domain, the parts of its local part split
//     on . _ - + and the labels of its domain (acme, com);
//   - the phone's digits, its national number (without the international
//     prefix and country code, or without the trunk 0) and the digits from
//     each group as typed on, so that "+49 151 2345678" is found by 4915…,
//     0151 2345…, 151 234… and 2345678.
//
// A token that is a prefix of another token of the same record is not stored:
// every word that would match it also matches the longer token.
//
// Query words: a chunk with "@" is an email prefix; a run of chunks made of
// digits and + - ( ) is one phone number (its digits, also tried without 00
// or a leading 0), and also matches words made of digits (so "Studio 54" is
// found); any other chunk splits into words like the stored names. All words
// must match. Text that leaves no word (only punctuation) matches nothing.

// maxTermLen is the longest stored term in bytes; longer tokens and query
// words are cut (at a rune boundary), which keeps prefix semantics.
const maxTermLen = 64

// fold lower-cases s and removes accents, so that "Müller" and "muller"
// meet.
func fold(s string) string {
	s = strings.ToLower(s)
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	// A transform chain keeps state between calls, so each call makes its
	// own: one shared chain panicked under concurrent searches.
	folder := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(folder, s)
	if err != nil {
		return s
	}
	return out
}

// cutTerm shortens a token to maxTermLen bytes at a rune boundary.
func cutTerm(s string) string {
	if len(s) <= maxTermLen {
		return s
	}
	s = s[:maxTermLen]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// words splits text into folded words. For storing, joined adds the
// letters of a chunk with inner punctuation as one more word ("o'brien"
// gives o, brien and obrien), so that either spelling finds it; a query
// splits the same way but needs only the parts.
func words(text string, joined bool) []string {
	var out []string
	for _, chunk := range strings.Fields(fold(text)) {
		parts := strings.FieldsFunc(chunk, func(r rune) bool { return !isWordRune(r) })
		out = append(out, parts...)
		if joined && len(parts) > 1 {
			out = append(out, strings.Join(parts, ""))
		}
	}
	return out
}

// digitsOf keeps the ASCII digits of s.
func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// phoneTokens are the digit strings a phone number can be found by.
func phoneTokens(phone string) []string {
	phone = strings.TrimSpace(phone)
	d := digitsOf(phone)
	if d == "" {
		return nil
	}
	out := []string{d}
	// Each group of digits as typed starts a token, as long as six digits
	// remain: "+33 1 89 04 16 61" is found by 89 04… and 04 16 61.
	pos := 0
	prevDigit := false
	for i := 0; i < len(phone); i++ {
		isDigit := phone[i] >= '0' && phone[i] <= '9'
		if isDigit {
			if !prevDigit && pos > 0 && len(d)-pos >= 6 {
				out = append(out, d[pos:])
			}
			pos++
		}
		prevDigit = isDigit
	}
	// The national number: without the international prefix and country
	// code, or without the trunk 0.
	switch {
	case strings.HasPrefix(phone, "+"):
		out = append(out, d[min(countryCodeLen(d), len(d)):])
	case strings.HasPrefix(d, "00") && len(d) > 2:
		out = append(out, d[2:], d[2+min(countryCodeLen(d[2:]), len(d)-2):])
	case strings.HasPrefix(d, "0"):
		out = append(out, d[1:])
	}
	return out
}

// countryCodeLen is the length of the country calling code that starts the
// international number d (ITU-T E.164 zones: 1 and 7 are one digit, a fixed
// set two digits, the rest three).
func countryCodeLen(d string) int {
	if d == "" {
		return 0
	}
	if d[0] == '1' || d[0] == '7' {
		return 1
	}
	if len(d) >= 2 && strings.Contains(twoDigitCountryCodes, d[:2]+" ") {
		return 2
	}
	return 3
}

const twoDigitCountryCodes = "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 " +
	"60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 "

// emailTokens are the whole email, "@domain", the local part's pieces and the
// domain's labels.
func emailTokens(email string) []string {
	email = fold(strings.TrimSpace(email))
	if email == "" {
		return nil
	}
	out := []string{email}
	local, domain, ok := strings.Cut(email, "@")
	if ok {
		out = append(out, "@"+domain)
		out = append(out, strings.FieldsFunc(domain, func(r rune) bool { return !isWordRune(r) })...)
	}
	out = append(out, strings.FieldsFunc(local, func(r rune) bool { return !isWordRune(r) })...)
	return out
}

// finishTerms cuts, sorts and de-duplicates tokens and drops those that are
// a prefix of another token (they add no match).
func finishTerms(tokens []string) []string {
	for i, t := range tokens {
		tokens[i] = cutTerm(t)
	}
	sort.Strings(tokens)
	out := tokens[:0]
	for i, t := range tokens {
		if t == "" {
			continue
		}
		if i+1 < len(tokens) && strings.HasPrefix(tokens[i+1], t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// contactTerms lists the search terms of a contact.
func contactTerms(name, email, company, phone string) []string {
	var t []string
	t = append(t, words(name, true)...)
	t = append(t, words(company, true)...)
	t = append(t, emailTokens(email)...)
	t = append(t, phoneTokens(phone)...)
	return finishTerms(t)
}

// dealTerms lists the search terms of a deal: its name, company and contact
// name.
func dealTerms(name, company, contactName string) []string {
	var t []string
	t = append(t, words(name, true)...)
	t = append(t, words(company, true)...)
	t = append(t, words(contactName, true)...)
	return finishTerms(t)
}

// searchWord is one word of a search: a record matches when one of its terms
// starts with one of the prefixes.
type searchWord struct {
	prefixes []string
}

func isPhoneChunk(s string) bool {
	hasDigit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			hasDigit = true
		case c == '+' || c == '-' || c == '(' || c == ')' || c == '.' || c == '/':
		default:
			return false
		}
	}
	return hasDigit
}

// parseSearch turns what a user typed into search words. It reports false
// when the text held something but no usable word (then nothing matches).
func parseSearch(q string) ([]searchWord, bool) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, true
	}
	var out []searchWord
	seen := map[string]bool{}
	addWord := func(prefixes ...string) {
		var ps []string
		for _, p := range prefixes {
			p = cutTerm(p)
			if p != "" && !seen[p] {
				// A copy: the query may point into the request's buffer
				// (fiber's values do), which later requests overwrite, and
				// the words outlive the request as search cache keys — a
				// key changed in place is lost in the map (and its value
				// read again on every request: "brenneranalytics" 30
				// times in 30 s at 1M contacts).
				ps = append(ps, strings.Clone(p))
			}
		}
		if len(ps) == 0 {
			return
		}
		for _, p := range ps {
			seen[p] = true
		}
		out = append(out, searchWord{prefixes: ps})
	}
	chunks := strings.Fields(q)
	for i := 0; i < len(chunks); i++ {
		chunk := chunks[i]
		switch {
		case strings.Contains(chunk, "@"):
			addWord(fold(strings.Trim(chunk, `"'<>,;()`)))
		case isPhoneChunk(chunk):
			// A phone number may be typed with spaces: "+49 151 234".
			number := chunk
			for i+1 < len(chunks) && isPhoneChunk(chunks[i+1]) {
				i++
				number += " " + chunks[i]
			}
			d := digitsOf(number)
			variants := []string{d}
			switch {
			case strings.HasPrefix(d, "00") && len(d) > 2:
				variants = append(variants, d[2:])
			case strings.HasPrefix(d, "0") && len(d) > 1:
				variants = append(variants, strings.TrimLeft(d, "0"))
			}
			addWord(variants...)
		default:
			for _, w := range words(chunk, false) {
				addWord(w)
			}
		}
	}
	return out, len(out) > 0
}
