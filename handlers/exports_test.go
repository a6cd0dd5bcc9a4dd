package handlers_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sherpa/store"
)

func TestExportContactsStreamsEveryRowOfTheView(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		c, email := a.owner("Ann Export", "Export Co")
		me := a.user(email)
		ctx := context.Background()
		const n = 230 // more than one store page
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("Person %03d", i)
			if i == 7 {
				name = "=HYPERLINK(\"http://evil\")"
			}
			if _, err := a.store.CreateContact(ctx, me.TeamID, me, store.ContactInput{Name: name, Email: fmt.Sprintf("p%03d@example.com", i), Phone: "+49 151 0000", OwnerID: me.ID}); err != nil {
				t.Fatal(err)
			}
		}
		r := c.get("/contacts/export.csv?sort=email&dir=desc")
		expectStatus(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("content type %q", ct)
		}
		recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != n+1 || strings.Join(recs[0], ",") != strings.Join(store.ContactExportHeader, ",") {
			t.Fatalf("%d records, header %v", len(recs), recs[0])
		}
		if recs[1][1] != "p229@example.com" || recs[n][1] != "p000@example.com" {
			t.Fatalf("not in the table's order: first %v last %v", recs[1], recs[n])
		}
		for _, rec := range recs[1:] {
			if rec[1] == "p007@example.com" && !strings.HasPrefix(rec[0], "'=") {
				t.Fatalf("formula not neutralised: %q", rec[0])
			}
			if rec[2] != "'+49 151 0000" || rec[5] != email {
				t.Fatalf("phone %q owner %q", rec[2], rec[5])
			}
		}
		// The search narrows the export like the table.
		r = c.get("/contacts/export.csv?q=p007")
		recs, _ = csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if len(recs) != 2 {
			t.Fatalf("search export has %d records", len(recs))
		}
		// Another team's export is its own.
		o, _ := a.owner("Bob Other", "Other Co")
		r = o.get("/contacts/export.csv")
		recs, _ = csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if len(recs) != 1 {
			t.Fatalf("other team sees %d records", len(recs))
		}
		r = o.get("/deals/export.csv")
		expectStatus(t, r, http.StatusOK)
	})
}

func TestNeutralizeCell(t *testing.T) {
	for in, want := range map[string]string{"=1+2": "'=1+2", "+49": "'+49", "-x": "'-x", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx", "Ann": "Ann", "": ""} {
		if got := store.NeutralizeCell(in); got != want {
			t.Errorf("NeutralizeCell(%q) = %q, want %q", in, got, want)
		}
		if back := store.UnneutralizeCell(store.NeutralizeCell(in)); back != in {
			t.Errorf("round trip of %q gives %q", in, back)
		}
	}
}
