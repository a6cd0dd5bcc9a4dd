package money_test

import (
	"math"
	"strings"
	"testing"

	"sherpa/money"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in, code string
		want     int64
		wantErr  string // part of the message, "" for success
	}{
		{"", "EUR", 0, ""},
		{"0", "EUR", 0, ""},
		{"1234", "EUR", 123400, ""},
		{"1234.50", "EUR", 123450, ""},
		{"1234.5", "EUR", 123450, ""},
		{"1,234.50", "EUR", 123450, ""},
		{"1,234", "EUR", 123400, ""},
		{"12,345,678.09", "EUR", 1234567809, ""},
		{"€1,234.5", "EUR", 123450, ""},
		{"€ 1,234.50", "EUR", 123450, ""},
		{"1234.50 €", "EUR", 123450, ""},
		{"$99", "EUR", 9900, ""},
		{"EUR 10", "EUR", 1000, ""},
		{"10 EUR", "EUR", 1000, ""},
		{"10 eur", "EUR", 1000, ""},
		{" 7.05 ", "EUR", 705, ""},
		{".5", "EUR", 50, ""},
		{"1.", "EUR", 100, ""},
		{"+12", "EUR", 1200, ""},
		{"007", "EUR", 700, ""},
		{"12.500", "EUR", 1250, ""},
		{"999,999,999,999.99", "EUR", 99999999999999, ""},
		{"-5", "EUR", 0, "negative"},
		{"€-5", "EUR", 0, "negative"},
		{"−5", "EUR", 0, "negative"},
		{"1000000000000", "EUR", 0, "too large"},
		{"99999999999999999999999", "EUR", 0, "too large"},
		{"1.234", "EUR", 0, "two decimals"},
		{"1,2345", "EUR", 0, "groups of three"},
		{"12,34", "EUR", 0, "groups of three"},
		{",123", "EUR", 0, "groups of three"},
		{"1.234,50", "EUR", 0, "like 1,234.50"},
		{"abc", "EUR", 0, "like 1,234.50"},
		{"12abc", "EUR", 0, "like 1,234.50"},
		{"1e5", "EUR", 0, "like 1,234.50"},
		{"1.2.3", "EUR", 0, "like 1,234.50"},
		{"0x10", "EUR", 0, "like 1,234.50"},
		{"€", "EUR", 0, "like 1,234.50"},
		{".", "EUR", 0, "like 1,234.50"},
		{"1 234", "EUR", 0, "like 1,234.50"},
		{"NaN", "EUR", 0, "like 1,234.50"},
		{"a\x00b", "EUR", 0, "like 1,234.50"},
		{"1,234.50", "", 123450, ""},
		// JPY has no minor unit: amounts are whole yen.
		{"1234", "JPY", 1234, ""},
		{"1,234", "JPY", 1234, ""},
		{"¥1,234", "JPY", 1234, ""},
		{"1234 JPY", "JPY", 1234, ""},
		{"1,234.00", "JPY", 1234, ""},
		{"1,234.50", "JPY", 0, "no decimals in JPY"},
		{"abc", "JPY", 0, "like 1,234"},
		{"999,999,999,999", "JPY", 999999999999, ""},
		{"1,000,000,000,000", "JPY", 0, "too large"},
		// KWD has three.
		{"1,234.5", "KWD", 1234500, ""},
		{"1,234.567", "KWD", 1234567, ""},
		{"KWD 1.5", "KWD", 1500, ""},
		{"1.2345", "KWD", 0, "three decimals"},
		{"abc", "KWD", 0, "like 1,234.500"},
		{"999,999,999,999.999", "KWD", 999999999999999, ""},
	}
	for _, c := range cases {
		got, err := money.Parse(c.in, c.code)
		switch {
		case c.wantErr == "" && (err != nil || got != c.want):
			t.Errorf("Parse(%q, %q) = %d, %v; want %d", c.in, c.code, got, err, c.want)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("Parse(%q, %q) = %d, %v; want error with %q", c.in, c.code, got, err, c.wantErr)
		}
	}
}

func TestFormatPlainReadsBack(t *testing.T) {
	cases := []struct {
		minor int64
		code  string
		want  string
	}{
		{0, "EUR", "0.00"}, {5, "EUR", "0.05"}, {123450, "EUR", "1,234.50"},
		{99999999999999, "EUR", "999,999,999,999.99"}, {-123450, "EUR", "-1,234.50"}, {100000, "USD", "1,000.00"},
		{1234, "JPY", "1,234"}, {0, "JPY", "0"}, {1234567, "KWD", "1,234.567"}, {5, "BHD", "0.005"},
	}
	for _, c := range cases {
		got := money.FormatPlain(c.minor, c.code)
		if got != c.want {
			t.Errorf("FormatPlain(%d, %q) = %q, want %q", c.minor, c.code, got, c.want)
		}
		if c.minor >= 0 {
			if back, err := money.Parse(got, c.code); err != nil || back != c.minor {
				t.Errorf("Parse(FormatPlain(%d, %q)) = %d, %v", c.minor, c.code, back, err)
			}
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		minor    int64
		currency string
		want     string
	}{
		{0, "EUR", "€0.00"},
		{5, "EUR", "€0.05"},
		{99, "EUR", "€0.99"},
		{100, "EUR", "€1.00"},
		{123456, "EUR", "€1,234.56"},
		{-99, "EUR", "-€0.99"},
		{-123456, "USD", "-$1,234.56"},
		{100000, "USD", "$1,000.00"},
		{123450, "GBP", "£1,234.50"},
		{123456789012, "EUR", "€1,234,567,890.12"},
		{math.MaxInt64, "EUR", "€92,233,720,368,547,758.07"},
		{math.MinInt64, "EUR", "-€92,233,720,368,547,758.08"},
		// JPY has no minor unit, KWD and BHD three.
		{123456, "JPY", "¥123,456"},
		{-5, "JPY", "-¥5"},
		{1234567, "KWD", "KWD 1,234.567"},
		{5, "BHD", "BHD 0.005"},
		{123450, "CHF", "CHF 1,234.50"},
		{-5, "CHF", "-CHF 0.05"},
		{123450, " eur ", "€1,234.50"},
		{123450, "", "1,234.50"},
	}
	for _, tt := range tests {
		if got := money.Format(tt.minor, tt.currency); got != tt.want {
			t.Errorf("Format(%d, %q) = %q, want %q", tt.minor, tt.currency, got, tt.want)
		}
	}
}

func TestDigits(t *testing.T) {
	for code, want := range map[string]int{"JPY": 0, "KRW": 0, "EUR": 2, "USD": 2, "chf": 2, "KWD": 3, "BHD": 3, "CLF": 4, "": 2, "XYZ": 2} {
		if got := money.Digits(code); got != want {
			t.Errorf("Digits(%q) = %d, want %d", code, got, want)
		}
	}
}

func TestShortIsRound(t *testing.T) {
	tests := []struct {
		minor    int64
		currency string
		want     string
	}{
		{0, "EUR", "€0"},
		{250, "EUR", "€2.50"},
		{50000, "EUR", "€500"},
		{100000, "USD", "$1k"},
		{250000, "EUR", "€2.5k"},
		{2500000, "EUR", "€25k"},
		{125000000, "GBP", "£1.25M"},
		{300000000000, "EUR", "€3B"},
		{2500000, "CHF", "CHF 25k"},
		{2500, "JPY", "¥2.5k"},
		{500, "JPY", "¥500"},
		{2500, "KWD", "KWD 2.500"},
		{2500000, "KWD", "KWD 2.5k"},
	}
	for _, tt := range tests {
		if got := money.FormatShort(tt.minor, tt.currency); got != tt.want {
			t.Errorf("FormatShort(%d, %q) = %q, want %q", tt.minor, tt.currency, got, tt.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 12345: "12,345", -1234567: "-1,234,567"} {
		if got := money.Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
