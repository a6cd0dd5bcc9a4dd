package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestLogFormat: a log that is not a terminal gets JSON by default and
// never colour codes, even when console output is asked for.
func TestLogFormat(t *testing.T) {
	for _, c := range []struct {
		format string
		json   bool
	}{{"auto", true}, {"json", true}, {"console", false}} {
		var out bytes.Buffer
		log, err := newLogger(Config{LogLevel: "info", LogFormat: c.format}, &out)
		if err != nil {
			t.Fatal(err)
		}
		log.Info().Str("path", "/contacts").Msg("request")
		line := out.String()
		if strings.Contains(line, "\x1b[") {
			t.Errorf("format %s: colour codes in a file: %q", c.format, line)
		}
		var v map[string]any
		isJSON := json.Unmarshal([]byte(line), &v) == nil
		if isJSON != c.json || !strings.Contains(line, "/contacts") {
			t.Errorf("format %s: %q, want JSON %v", c.format, line, c.json)
		}
	}
	if _, err := newLogger(Config{LogLevel: "info", LogFormat: "xml"}, &bytes.Buffer{}); err == nil {
		t.Error("an unknown format must be refused")
	}
}
