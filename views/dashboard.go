package views

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pollHeaders is the hx-headers value of the dashboard's poll: it sends the
// ETag of the charts on the page itself, because browsers pass a 304 on to
// scripts only for conditional requests the script made (one the browser
// makes from its cache comes back to the script as a 200 with the cached
// body, which htmx would swap in again).
func pollHeaders(etag string) string {
	b, _ := json.Marshal(map[string]string{"If-None-Match": etag})
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// zoneLabel shows a zone with its current offset from UTC: "Europe/Berlin
// (UTC+01:00)".
func zoneLabel(name string) string {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return name
	}
	_, off := time.Now().In(loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	label := strings.ReplaceAll(name, "_", " ")
	if off == 0 && name == "UTC" {
		return label
	}
	return label + " (UTC" + sign + twoDigits(off/3600) + ":" + twoDigits(off%3600/60) + ")"
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
