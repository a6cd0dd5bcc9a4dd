package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestPublicURLFollowsTheListenAddressUnlessSet(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{":8080", "http://localhost:8080"},
		{"127.0.0.1:18201", "http://127.0.0.1:18201"},
		{"0.0.0.0:80", "http://localhost:80"},
		{"[::1]:9000", "http://[::1]:9000"},
		{"[::]:8080", "http://localhost:8080"},
	} {
		if got := urlOfAddr(c.addr); got != c.want {
			t.Errorf("urlOfAddr(%q) = %q, want %q", c.addr, got, c.want)
		}
	}
	getenv := func(env map[string]string) func(string) string { return func(k string) string { return env[k] } }
	cfg, err := parseConfig("serve", []string{"-addr", "127.0.0.1:18201"}, getenv(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PublicURL != "http://127.0.0.1:18201" || cfg.PublicURLSet {
		t.Errorf("derived public URL %q (set %v)", cfg.PublicURL, cfg.PublicURLSet)
	}
	if line := startupLine(cfg, "127.0.0.1:18201"); !strings.Contains(line, "open http://127.0.0.1:18201") || strings.Contains(line, "8080") {
		t.Errorf("startup line %q", line)
	}
	cfg, err = parseConfig("serve", []string{"-addr", "127.0.0.1:18201"}, getenv(map[string]string{"SHERPA_PUBLIC_URL": "https://crm.example.com"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PublicURL != "https://crm.example.com" || !cfg.PublicURLSet {
		t.Errorf("set public URL %q (set %v)", cfg.PublicURL, cfg.PublicURLSet)
	}
	if line := startupLine(cfg, "127.0.0.1:18201"); !strings.Contains(line, "https://crm.example.com") || !strings.Contains(line, "http://127.0.0.1:18201") {
		t.Errorf("startup line %q", line)
	}
}

func TestDatabaseTimeoutAndMetricsSettings(t *testing.T) {
	getenv := func(env map[string]string) func(string) string { return func(k string) string { return env[k] } }
	cfg, err := parseConfig("serve", nil, getenv(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DBTimeout != 5*time.Second || cfg.MetricsToken != "" || cfg.MetricsAllow != "" {
		t.Errorf("defaults: %s %q %q", cfg.DBTimeout, cfg.MetricsToken, cfg.MetricsAllow)
	}
	cfg, err = parseConfig("serve", []string{"-db-timeout", "1500ms"},
		getenv(map[string]string{"SHERPA_DB_TIMEOUT": "9s", "SHERPA_METRICS_TOKEN": "t0k", "SHERPA_METRICS_ALLOW": "10.0.0.0/8"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DBTimeout != 1500*time.Millisecond || cfg.MetricsToken != "t0k" || cfg.MetricsAllow != "10.0.0.0/8" {
		t.Errorf("set: %s %q %q", cfg.DBTimeout, cfg.MetricsToken, cfg.MetricsAllow)
	}
	for _, env := range []map[string]string{{"SHERPA_DB_TIMEOUT": "soon"}, {"SHERPA_DB_TIMEOUT": "0s"}, {"SHERPA_METRICS_ALLOW": "10.0.0.0/8,nope"}} {
		if _, err := parseConfig("serve", nil, getenv(env), io.Discard); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
}
