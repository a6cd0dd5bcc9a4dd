package main

import "testing"

// TestSeedDatabaseURL: a seed on MySQL gets a long read timeout (its index
// rebuild outlasts the default), unless the URL sets one; SQLite is untouched.
func TestSeedDatabaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"mysql://root@127.0.0.1:3306/demo":                 "mysql://root@127.0.0.1:3306/demo?readTimeout=1h",
		"mysql://root@127.0.0.1:3306/demo?tls=false":       "mysql://root@127.0.0.1:3306/demo?tls=false&readTimeout=1h",
		"mysql://root@127.0.0.1:3306/demo?readTimeout=10m": "mysql://root@127.0.0.1:3306/demo?readTimeout=10m",
		"sqlite:sherpa.db":                                 "sqlite:sherpa.db",
	} {
		if got := seedDatabaseURL(in); got != want {
			t.Errorf("seedDatabaseURL(%q) = %q, want %q", in, got, want)
		}
	}
}
