package storetest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// SkipGroup is a group of tests that skip when something is missing, and the
// line that says what to do about it.
type SkipGroup struct {
	Skipped func() bool
	Line    string
}

// MySQLGroup is the tests that need SHERPA_TEST_MYSQL_URL (see URL).
var MySQLGroup = SkipGroup{
	Skipped: func() bool { _, u := mysqlBase(); return u == "" && os.Getenv("CI") != "true" },
	Line:    "MySQL tests skipped: set " + MySQLEnv + "=mysql://root@127.0.0.1:3306/ to run them",
}

// Main runs a package's tests (call it from TestMain), then says once which
// groups of tests were skipped and why, one line per group. A plain
// `go test ./...` prints nothing of a passing package but its "ok" line, so
// the lines go to the terminal itself (/dev/tty) when there is one, and to
// stderr otherwise (seen with -v, or when the package fails).
func Main(m *testing.M, groups ...SkipGroup) {
	code := m.Run()
	var lines []string
	pkg := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	for _, g := range groups {
		if g.Skipped() {
			lines = append(lines, fmt.Sprintf("%s: %s\n", pkg, g.Line))
		}
	}
	if len(lines) > 0 {
		var out io.Writer = os.Stderr
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			defer tty.Close()
			out = tty
		}
		for _, l := range lines {
			fmt.Fprint(out, l)
		}
	}
	os.Exit(code)
}
