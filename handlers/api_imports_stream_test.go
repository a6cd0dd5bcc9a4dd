package handlers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

// TestAPIImportUploadIsStreamedToTheImportLimit: the API's upload takes
// files above the 1 MB body limit of other requests, up to the import
// limit (SHERPA_IMPORT_MAX_BYTES), with a clear problem above it; an
// Idempotency-Key (which hashes the body) is refused for such a body, and
// other API requests keep the 1 MB limit.
func TestAPIImportUploadIsStreamedToTheImportLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cfg := testConfig()
		cfg.ImportMaxBytes = 3 << 20
		a := newApp(t, s, nil, cfg)
		tm := a.apiTeam("Stream")
		k := tm.ownerKey
		var b strings.Builder
		b.WriteString("Name,Email\n")
		for i := 0; b.Len() < 2<<20; i++ {
			fmt.Fprintf(&b, "Person %d,p%d@stream.test\n", i, i)
		}
		up := k.call("POST", "/imports?kind=contacts&file_name=big.csv", b.String(), "Content-Type", "text/csv").expect(http.StatusCreated)
		if !strings.Contains(string(up.body), `"email"`) || up.str("file_name") != "big.csv" {
			t.Fatalf("big upload not analysed: %.600s", up.body)
		}
		k.call("POST", "/imports?kind=contacts", b.String(), "Content-Type", "text/csv", "Idempotency-Key", "big-1").expect(http.StatusBadRequest)
		k.call("POST", "/imports?kind=contacts", "", "Content-Type", "text/csv").expect(http.StatusBadRequest)
		for b.Len() < 4<<20 {
			b.WriteString("Someone,someone@stream.test\n")
		}
		r := k.call("POST", "/imports?kind=contacts", b.String(), "Content-Type", "text/csv").expect(http.StatusRequestEntityTooLarge)
		if !strings.Contains(r.str("detail"), "import limit of 3 MB") {
			t.Fatalf("no clear message: %s", r.body)
		}
		if n := len(k.get("/imports").expect(http.StatusOK).data()); n != 1 {
			t.Fatalf("%d imports kept, want 1", n)
		}
		big := `{"name": "` + strings.Repeat("x", 2<<20) + `"}`
		k.call("POST", "/contacts", big).expect(http.StatusRequestEntityTooLarge)
	})
}
