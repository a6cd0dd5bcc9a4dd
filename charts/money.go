package charts

import (
	"strconv"
	"strings"
)

// Amounts are integer minor units with two minor digits for every currency:
// that is how the product stores money (deal input accepts "1234.50" whatever
// the team currency), so a JPY amount of 123456 prints as "¥1,234.56".
const minorDigits = 2

// currencySymbols lists the currencies printed with a symbol; any other code
// prints as the code and a space ("CHF 1,234.50").
var currencySymbols = map[string]string{
	"EUR": "€",
	"USD": "$",
	"GBP": "£",
	"JPY": "¥",
}

// FormatMoney formats an amount in minor units of an ISO 4217 currency for
// display: "€1,234.50", "-$99.00", "CHF 1,234.50". It always prints two minor
// digits and English separators.
func FormatMoney(minor int64, currency string) string {
	return currencyPrefix(currency, minor < 0) + groupThousands(absDigits(minor), minorDigits)
}

// formatMoneyShort formats a round axis amount compactly: "€0", "€500",
// "€2.5k", "€1.2M". Amounts under a thousand units keep their cents only when
// they have some ("€2.50").
func formatMoneyShort(minor int64, currency string) string {
	prefix := currencyPrefix(currency, minor < 0)
	major := float64(absU(minor)) / 100
	switch {
	case major >= 1e9:
		return prefix + trimFloat(major/1e9) + "B"
	case major >= 1e6:
		return prefix + trimFloat(major/1e6) + "M"
	case major >= 1e3:
		return prefix + trimFloat(major/1e3) + "k"
	case absU(minor)%100 == 0:
		return prefix + strconv.FormatUint(absU(minor)/100, 10)
	default:
		return prefix + groupThousands(absDigits(minor), minorDigits)
	}
}

// formatCount prints a count with thousands separators: 12345 → "12,345".
func formatCount(n int64) string {
	s := groupThousands(absDigits(n), 0)
	if n < 0 {
		return "-" + s
	}
	return s
}

func currencyPrefix(currency string, negative bool) string {
	code := strings.ToUpper(strings.TrimSpace(currency))
	prefix, ok := currencySymbols[code]
	if !ok && code != "" {
		prefix = code + " "
	}
	if negative {
		return "-" + prefix
	}
	return prefix
}

// absU is |n| as an unsigned number, so that math.MinInt64 does not overflow.
func absU(n int64) uint64 {
	if n < 0 {
		return uint64(-(n + 1)) + 1
	}
	return uint64(n)
}

func absDigits(n int64) string {
	return strconv.FormatUint(absU(n), 10)
}

// groupThousands takes the decimal digits of a non-negative number of minor
// units and returns them with a decimal point before the last `decimals`
// digits and a comma between groups of three integer digits.
func groupThousands(digits string, decimals int) string {
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
