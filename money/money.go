// Package money parses and formats amounts of money kept as integer minor
// units of an ISO 4217 currency (cents for EUR, whole yen for JPY, fils for
// KWD). It is the one home of those rules for the store, the charts and the
// handlers, so it imports none of the project's packages.
package money

import (
	"errors"
	"strconv"
	"strings"
)

// MaxMajor bounds amounts in major units: 999,999,999,999 (plus the minor
// digits), far inside int64 for every currency's minor units.
const MaxMajor = 999_999_999_999

// digits lists the ISO 4217 currencies whose minor unit is not a hundredth
// (the list's "minor unit" column); every other code has two.
var digits = map[string]int{
	// no minor unit
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	// thousandths
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// ten-thousandths
	"CLF": 4, "UYW": 4,
}

// symbols lists the currencies printed with a symbol; any other code prints
// as the code and a space ("CHF 1,234.50").
var symbols = map[string]string{
	"EUR": "€",
	"USD": "$",
	"GBP": "£",
	"JPY": "¥",
}

func normCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

// Digits is the number of minor-unit digits of a currency: 0 for JPY, 2 for
// EUR and USD, 3 for KWD and BHD. An unknown or empty code has 2.
func Digits(code string) int {
	if d, ok := digits[normCode(code)]; ok {
		return d
	}
	return 2
}

// Format writes an amount for display with the currency's symbol or code:
// "€1,234.50", "-$99.00", "¥1,235", "KWD 1,234.500", "CHF 1,234.50". An
// empty code prints the number alone.
func Format(minor int64, code string) string {
	return prefix(code, minor < 0) + group(absDigits(minor), Digits(code))
}

// FormatPlain writes an amount as an input field shows it, without a symbol
// and in a form Parse reads back: "1,234.50", "1,235" (JPY).
func FormatPlain(minor int64, code string) string {
	s := group(absDigits(minor), Digits(code))
	if minor < 0 {
		return "-" + s
	}
	return s
}

// FormatShort writes a round amount compactly, for chart axes: "€0",
// "€500", "€2.5k", "€1.2M", "¥3B". Amounts under a thousand units keep their
// minor digits only when they have some ("€2.50").
func FormatShort(minor int64, code string) string {
	p := prefix(code, minor < 0)
	d := Digits(code)
	scale := pow10(d)
	u := absU(minor)
	major := float64(u) / float64(scale)
	switch {
	case major >= 1e9:
		return p + trimFloat(major/1e9) + "B"
	case major >= 1e6:
		return p + trimFloat(major/1e6) + "M"
	case major >= 1e3:
		return p + trimFloat(major/1e3) + "k"
	case u%scale == 0:
		return p + strconv.FormatUint(u/scale, 10)
	default:
		return p + group(absDigits(minor), d)
	}
}

// Thousands writes a whole number with thousands separators: 12345 →
// "12,345".
func Thousands(n int64) string {
	s := group(absDigits(n), 0)
	if n < 0 {
		return "-" + s
	}
	return s
}

// Example is how an amount of the currency is typed, for messages:
// "1,234.50", "1,234" (JPY), "1,234.500" (KWD).
func Example(code string) string {
	d := Digits(code)
	return FormatPlain(int64(123450)*int64(pow10(d))/100, code)
}

// Parse reads an amount as people type it and returns minor units of the
// currency: "1234.50", "1,234.50", "1234", "€1,234.5", "1234 EUR", "+12".
// Commas group thousands; the dot is the decimal point, with at most the
// currency's minor digits (zeros beyond them are ignored: "1,234.00" is
// 1234 yen). A symbol or code (the currency's own, or €, $, £, EUR, USD, GBP)
// may stand before or after the number. Empty input is 0. Negative,
// malformed or too large amounts are refused with a message that completes
// "Amount …" in a form.
func Parse(s, code string) (int64, error) {
	d := Digits(code)
	example := Example(code)
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	for _, sym := range affixes(code) {
		s = strings.TrimSpace(trimFold(s, sym))
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "−") {
		return 0, errors.New("must not be negative")
	}
	s = strings.TrimPrefix(s, "+")
	notNumber := errors.New("enter a number like " + example)
	if s == "" {
		return 0, notNumber
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if (i == 0 && (len(g) < 1 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return 0, errors.New("use commas only between groups of three digits, and a dot for decimals, like " + example)
			}
		}
		whole = strings.Join(groups, "")
	}
	if (whole == "" && frac == "") || !allDigits(whole) || (hasDot && !allDigits(frac)) {
		return 0, notNumber
	}
	if len(frac) > d {
		if strings.Trim(frac[d:], "0") != "" {
			if d == 0 {
				return 0, errors.New("takes no decimals in " + normCode(code))
			}
			return 0, errors.New("use at most " + decimals(d))
		}
		frac = frac[:d]
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > len(strconv.Itoa(MaxMajor)) {
		return 0, errors.New("is too large")
	}
	var units int64
	if whole != "" {
		units, _ = strconv.ParseInt(whole, 10, 64)
	}
	if units > MaxMajor {
		return 0, errors.New("is too large")
	}
	var minor int64
	if frac != "" {
		minor, _ = strconv.ParseInt(frac+strings.Repeat("0", d-len(frac)), 10, 64)
	}
	return units*int64(pow10(d)) + minor, nil
}

func decimals(d int) string {
	words := []string{"no decimals", "one decimal", "two decimals", "three decimals", "four decimals"}
	if d < len(words) {
		return words[d]
	}
	return strconv.Itoa(d) + " decimals"
}

// affixes are the symbols and codes Parse strips around a number.
func affixes(code string) []string {
	out := []string{"€", "$", "£", "EUR", "USD", "GBP"}
	c := normCode(code)
	if sym, ok := symbols[c]; ok {
		out = append(out, sym)
	}
	if c != "" {
		out = append(out, c)
	}
	return out
}

// trimFold removes affix from either end of s, ignoring case.
func trimFold(s, affix string) string {
	if len(s) >= len(affix) && strings.EqualFold(s[:len(affix)], affix) {
		s = s[len(affix):]
	}
	if len(s) >= len(affix) && strings.EqualFold(s[len(s)-len(affix):], affix) {
		s = s[:len(s)-len(affix)]
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func pow10(d int) uint64 {
	p := uint64(1)
	for range d {
		p *= 10
	}
	return p
}

func prefix(code string, negative bool) string {
	c := normCode(code)
	p, ok := symbols[c]
	if !ok && c != "" {
		p = c + " "
	}
	if negative {
		return "-" + p
	}
	return p
}

// absU is |n| as an unsigned number, so that math.MinInt64 does not overflow.
func absU(n int64) uint64 {
	if n < 0 {
		return uint64(-(n + 1)) + 1
	}
	return uint64(n)
}

func absDigits(n int64) string { return strconv.FormatUint(absU(n), 10) }

// group takes the decimal digits of a non-negative number of minor units and
// returns them with a decimal point before the last `decimals` digits and a
// comma between groups of three integer digits.
func group(digits string, decimals int) string {
	for len(digits) <= decimals {
		digits = "0" + digits
	}
	intPart, frac := digits[:len(digits)-decimals], digits[len(digits)-decimals:]
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if decimals > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// trimFloat prints an axis value with at most two decimals and no trailing
// zeros: 2.5 → "2.5", 15 → "15", 1.25 → "1.25".
func trimFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
