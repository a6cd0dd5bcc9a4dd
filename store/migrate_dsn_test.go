package store

import (
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// TestMigrationsGetLongTimeouts: the connection migrations run on keeps the
// URL's server, user and settings but waits an hour for a statement, not the
// pool's two minutes (an ALTER of a million-row table takes longer).
func TestMigrationsGetLongTimeouts(t *testing.T) {
	_, dsn, err := ParseURL("mysql://root:pw@127.0.0.1:3306/sherpa?readTimeout=30s&tls=false")
	if err != nil {
		t.Fatal(err)
	}
	long, err := migrationDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pool, _ := mysql.ParseDSN(dsn)
	mig, err := mysql.ParseDSN(long)
	if err != nil {
		t.Fatal(err)
	}
	if pool.ReadTimeout != 30*time.Second {
		t.Errorf("pool read timeout %v, want the URL's 30s", pool.ReadTimeout)
	}
	if mig.ReadTimeout != time.Hour || mig.WriteTimeout != time.Hour {
		t.Errorf("migration timeouts %v/%v, want 1h", mig.ReadTimeout, mig.WriteTimeout)
	}
	if mig.Addr != pool.Addr || mig.User != pool.User || mig.Passwd != pool.Passwd || mig.DBName != pool.DBName || mig.TLSConfig != pool.TLSConfig {
		t.Errorf("migration DSN %q lost the URL's settings (%q)", long, dsn)
	}
}
