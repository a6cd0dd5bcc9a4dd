package e2e

import (
	"os"
	"testing"

	"sherpa/store/storetest"
)

func TestMain(m *testing.M) {
	storetest.Main(m, storetest.MySQLGroup, storetest.SkipGroup{
		Skipped: func() bool { return chromiumPath() == "" && os.Getenv("CI") != "true" },
		Line:    "browser tests skipped: install Debian's chromium (apt-get install chromium) to run them",
	})
}
