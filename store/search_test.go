package store_test

import (
	"context"
	"slices"
	"testing"

	"sherpa/store"
	"sherpa/store/storetest"
)

func TestContactSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _ := teamOf(t, s)
		ann := addContact(t, s, team, owner, store.ContactInput{Name: "Ann Lee", Email: "ann@acme.com", Company: "Acme GmbH", Phone: "+49 151 2345678"})
		bob := addContact(t, s, team, owner, store.ContactInput{Name: "Bob O'Brien", Email: "bob.obrien@mail.beta.io", Company: "Beta Labs", Phone: "(555) 123-4567"})
		jm := addContact(t, s, team, owner, store.ContactInput{Name: "Jürgen Müller", Email: "jm_x+crm@gmail.com", Company: "Müller & Söhne", Phone: "0151 9876543"})
		anna := addContact(t, s, team, owner, store.ContactInput{Name: "Anna Annabel", Email: "annabel@zeta.co.uk", Company: "Zeta"})
		pg := addContact(t, s, team, owner, store.ContactInput{Name: "Percent Guy", Email: "pg@percent.example", Company: "100% Fun_Co", Phone: "030 123456"})
		// Another team's twin must never match.
		teamB, ownerB, _, _ := teamOf(t, s)
		addContact(t, s, teamB, ownerB, store.ContactInput{Name: "Ann Lee", Email: "ann@acme.com", Company: "Acme GmbH", Phone: "+49 151 2345678"})

		everyone := []*store.Contact{ann, anna, bob, jm, pg}
		cases := []struct {
			q    string
			want []*store.Contact
		}{
			{"", everyone},
			{"ann", []*store.Contact{ann, anna}},                   // word prefixes in names and emails
			{"ANN", []*store.Contact{ann, anna}},                   // case-insensitive
			{"  ann  ", []*store.Contact{ann, anna}},               // spaces
			{"lee", []*store.Contact{ann}},                         // second word
			{"acme", []*store.Contact{ann}},                        // company and email domain
			{"annabel", []*store.Contact{anna}},                    // prefix of nothing else
			{"ann@", []*store.Contact{ann}},                        // "@" targets the email
			{"ann@acme.com", []*store.Contact{ann}},                //
			{"ANN@ACME", []*store.Contact{ann}},                    //
			{"@acme", []*store.Contact{ann}},                       // domain
			{"@zeta.co", []*store.Contact{anna}},                   //
			{"annabel@", []*store.Contact{anna}},                   //
			{"zeta.co.uk", []*store.Contact{anna}},                 // domain words
			{"bob.obrien", []*store.Contact{bob}},                  // local part words
			{"obrien", []*store.Contact{bob}},                      // O'Brien joined
			{"o'brien", []*store.Contact{bob}},                     //
			{"brien", []*store.Contact{bob}},                       //
			{"mail", []*store.Contact{bob}},                        // subdomain
			{"io", []*store.Contact{bob}},                          // top-level domain
			{"crm", []*store.Contact{jm}},                          // local part split on +
			{"jm_x", []*store.Contact{jm}},                         // and on _
			{"gmail", []*store.Contact{jm}},                        //
			{"muller", []*store.Contact{jm}},                       // accents folded
			{"Müller", []*store.Contact{jm}},                       //
			{"MÜLL", []*store.Contact{jm}},                         //
			{"sohne", []*store.Contact{jm}},                        //
			{"jurgen muller", []*store.Contact{jm}},                // all words must match
			{"ann acme", []*store.Contact{ann}},                    //
			{"ann zeta", []*store.Contact{anna}},                   //
			{"ann beta", nil},                                      //
			{"nobody", nil},                                        // no match
			{"5551234567", []*store.Contact{bob}},                  // digits match whatever the formatting
			{"555-123", []*store.Contact{bob}},                     //
			{"(555) 123", []*store.Contact{bob}},                   // spaces inside a number
			{"1234567", []*store.Contact{bob}},                     // a later group
			{"+49 151 2345678", []*store.Contact{ann}},             // international
			{"0049 151 234", []*store.Contact{ann}},                //
			{"0151 2345678", []*store.Contact{ann}},                // national form of an international number
			{"1512345", []*store.Contact{ann}},                     //
			{"2345678", []*store.Contact{ann}},                     //
			{"0151", []*store.Contact{ann, jm}},                    //
			{"01519876543", []*store.Contact{jm}},                  //
			{"ann 0151", []*store.Contact{ann}},                    // a word and a number
			{"030 12", []*store.Contact{pg}},                       //
			{"100", []*store.Contact{pg}},                          // digits also match words of digits
			{"100%", []*store.Contact{pg}},                         //
			{"fun_co", []*store.Contact{pg}},                       //
			{"%", nil},                                             // special characters match nothing
			{"_", nil},                                             //
			{"'", nil},                                             //
			{`\`, nil},                                             //
			{"%%", nil},                                            //
			{"a%", []*store.Contact{ann, anna}},                    // and do not widen a word
			{"' OR 1=1 --", nil},                                   //
			{"'; DROP TABLE contacts; --", nil},                    //
			{`ann\`, []*store.Contact{ann, anna}},                  //
			{"ann@acme.com%", nil},                                 //
			{"ÜK", []*store.Contact{anna}},                         // folded to uk, the domain
			{"x" + string(make([]byte, 70)), []*store.Contact{jm}}, // NUL bytes split words (x of jm_x)
			{"annabelannabelannabelannabelannabelannabelannabelannabelannabelannabel", nil},
		}
		for _, mode := range store.SearchModes(1) {
			restore := mode.Use()
			for _, c := range cases {
				var want []int64
				for _, x := range c.want {
					want = append(want, x.ID)
				}
				got := searchContacts(t, s, team.ID, c.q)
				// Results come sorted by name; compare as sets.
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("plan %s: search %q = %v, want %v", mode.Name, c.q, got, want)
				}
			}
			restore()
		}
		// Editing a contact updates its terms.
		if _, err := s.UpdateContact(ctx, team.ID, owner, ann.ID, ann.Version, store.ContactInput{Name: "Ann Smith", Email: "ann@other.org", Phone: "", Company: ""}); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]int{"lee": 0, "acme": 0, "smith": 1, "other": 1, "2345678": 0, "ann": 2} {
			if got := searchContacts(t, s, team.ID, q); len(got) != want {
				t.Errorf("after edit, search %q found %d, want %d", q, len(got), want)
			}
		}
		// Deleting removes them.
		if err := s.DeleteContact(ctx, team.ID, owner, ann.ID); err != nil {
			t.Fatal(err)
		}
		if got := searchContacts(t, s, team.ID, "smith"); len(got) != 0 {
			t.Errorf("deleted contact still found")
		}
	})
}

func TestDealSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, _, _ := teamOf(t, s)
		ann := addContact(t, s, team, owner, store.ContactInput{Name: "Ann Lee", Company: "Acme GmbH"})
		bob := addContact(t, s, team, owner, store.ContactInput{Name: "Bob Stone", Company: "Beta"})
		pilot := addDeal(t, s, team, owner, ann, store.DealInput{Name: "Pilot project"})
		renewal := addDeal(t, s, team, owner, bob, store.DealInput{Name: "Renewal 2026", Company: "Gamma Co"})
		for _, mode := range store.SearchModes(1) {
			restore := mode.Use()
			for q, want := range map[string][]int64{
				"pil": {pilot.ID}, "PROJECT": {pilot.ID}, "acme": {pilot.ID}, "lee": {pilot.ID}, "ann pilot": {pilot.ID},
				"gamma": {renewal.ID}, "beta": nil, "stone": {renewal.ID}, "2026": {renewal.ID}, "renewal ann": nil,
				"%": nil, "": {pilot.ID, renewal.ID},
			} {
				p, err := s.ListDeals(ctx, team.ID, store.DealQuery{Search: q})
				got := dealIDs(p.Rows)
				slices.Sort(got)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("plan %s: deal search %q = %v, %v; want %v", mode.Name, q, got, err, want)
				}
			}
			restore()
		}
	})
}

func TestSearchTermsOfAContact(t *testing.T) {
	got := store.ContactTerms("Seán O'Brien-Smith", "Sean.OBrien+crm@Mail.Acme.co.uk", "Acme Müller GmbH", "+44 20 7946 0958")
	want := []string{
		"2079460958", "442079460958", "79460958", // phone: all digits, national number, later groups
		"@mail.acme.co.uk", "acme", "brien", "co", "crm", "gmbh", "mail", "muller", "obriensmith",
		"sean.obrien+crm@mail.acme.co.uk", "smith", "uk",
		// "sean", "obrien" and "o" are prefixes of longer terms and not stored.
	}
	if !slices.Equal(got, want) {
		t.Errorf("terms\n got %q\nwant %q", got, want)
	}
}
