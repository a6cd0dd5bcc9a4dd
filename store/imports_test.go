package store_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"sherpa/store"
	"sherpa/store/storetest"
)

type importTeam struct {
	team  *store.Team
	owner *store.User
}

func newImportTeam(t *testing.T, s *store.Store, name string) importTeam {
	t.Helper()
	o := newUser(t, s, name)
	team, err := s.CreateTeam(context.Background(), o.ID, name+"'s team")
	if err != nil {
		t.Fatal(err)
	}
	return importTeam{team: team, owner: reload(t, s, o)}
}

// upload stores a file and returns the import with its proposed mapping.
func upload(t *testing.T, s *store.Store, it importTeam, kind, name string, data []byte) *store.Import {
	t.Helper()
	im, err := s.CreateImport(context.Background(), it.team.ID, it.owner, name, kind, bytes.NewReader(data), 200<<20)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// preview saves the mapping (edited by edit) and runs the dry run.
func preview(t *testing.T, s *store.Store, it importTeam, im *store.Import, edit func(m *store.ImportMapping)) *store.Import {
	t.Helper()
	ctx := context.Background()
	m := im.MappingInfo()
	if edit != nil {
		edit(&m)
	}
	if _, err := s.SaveImportMapping(ctx, it.team.ID, im.ID, m); err != nil {
		t.Fatalf("save mapping %+v: %v", m, err)
	}
	im, err := s.PreviewImport(ctx, it.team.ID, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// runJobs starts the import and lets a worker run every queued job.
func runImport(t *testing.T, s *store.Store, it importTeam, im *store.Import) *store.Import {
	t.Helper()
	ctx := context.Background()
	if err := s.StartImport(ctx, it.team.ID, im.ID); err != nil {
		t.Fatal(err)
	}
	for {
		job, err := s.ClaimImport(ctx, "test-worker")
		if err != nil {
			t.Fatal(err)
		}
		if job == nil {
			break
		}
		if err := s.RunImport(ctx, job, "test-worker"); err != nil {
			t.Fatal(err)
		}
	}
	im, err := s.ImportByID(ctx, it.team.ID, im.ID)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func importAll(t *testing.T, s *store.Store, it importTeam, kind, data string, edit func(m *store.ImportMapping)) *store.Import {
	t.Helper()
	im := upload(t, s, it, kind, "test.csv", []byte(data))
	im = preview(t, s, it, im, edit)
	return runImport(t, s, it, im)
}

func teamContacts(t *testing.T, s *store.Store, teamID int64) map[string]store.Contact {
	t.Helper()
	out := map[string]store.Contact{}
	err := s.ExportContacts(context.Background(), teamID, store.ContactQuery{}, func([][]string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	var rows []store.Contact
	if err := s.DB.NewSelect().Model(&rows).Where("team_id = ?", teamID).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range rows {
		out[c.Email] = c
	}
	return out
}

func TestImportDetectsEncodingDelimiterAndBadFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		it := newImportTeam(t, s, "Det")
		utf16le, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte("Name\tEmail\nAnn\tann@example.com\n"))
		utf16be, _ := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes([]byte("Name;Email\nAnn;ann@example.com\n"))
		latin1, _ := charmap.Windows1252.NewEncoder().Bytes([]byte("Name;Email\nJürgen Müller;j@example.com\n"))
		cases := []struct {
			name, data       string
			enc, delim, prob string
		}{
			{"utf-8 comma", "Name,Email\nAnn,ann@example.com\n", "UTF-8", ",", ""},
			{"bom semicolon", "\xEF\xBB\xBFName;Email\nAnn;ann@example.com\n", "UTF-8 (BOM)", ";", ""},
			{"utf-16le tab", string(utf16le), "UTF-16LE", "\t", ""},
			{"utf-16be", string(utf16be), "UTF-16BE", ";", ""},
			{"windows-1252", string(latin1), "Windows-1252", ";", ""},
			{"quoted delimiters do not count", "Name,Email\n\"Lee; Ann; B\",ann@example.com\n", "UTF-8", ",", ""},
			{"empty", "", "", "", "The file is empty."},
			{"header only", "Name,Email\n", "UTF-8", ",", "The file has a header line but no rows."},
			{"binary", "PK\x03\x04\x00\x00\x08\x00binary zip", "", "", "This does not look like a CSV file: it contains binary data. Export the spreadsheet as CSV and upload that."},
		}
		for _, c := range cases {
			im := upload(t, s, it, store.ImportContacts, c.name+".csv", []byte(c.data))
			d := im.DetectedInfo()
			if d.Encoding != c.enc || (c.prob == "" && d.Delimiter != c.delim) || d.Problem != c.prob {
				t.Errorf("%s: detected %q %q problem %q, want %q %q %q", c.name, d.Encoding, d.Delimiter, d.Problem, c.enc, c.delim, c.prob)
			}
			if c.prob == "" && (len(d.Header) != 2 || d.Header[0] != "Name") {
				t.Errorf("%s: header %q", c.name, d.Header)
			}
		}
		im := upload(t, s, it, store.ImportContacts, "w.csv", latin1)
		im = preview(t, s, it, im, nil)
		if p := im.PreviewInfo(); p.Create != 1 || p.Samples["create"][0].Label != "Jürgen Müller <j@example.com>" {
			t.Errorf("windows-1252 preview %+v", p)
		}
	})
}

func TestImportAutoMapsKnownExports(t *testing.T) {
	read := func(name string) []string {
		f, err := os.Open("../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		h, err := csv.NewReader(f).Read()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	cases := []struct {
		kind, file string
		want       []string
	}{
		{store.ImportContacts, "hubspot-contacts.csv", []string{"", "first_name", "last_name", "email", "phone", "company", "status", "owner", ""}},
		{store.ImportDeals, "pipedrive-deals.csv", []string{"name", "amount", "stage", "close_date", "owner", "", "contact_email", "company"}},
		{store.ImportContacts, "google-contacts.csv", []string{"name", "", "", "", "email", "", "phone", "company"}},
		{store.ImportContacts, "", nil},
	}
	for _, c := range cases[:3] {
		got := store.AutoMap(c.kind, read(c.file))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.file, got, c.want)
		}
	}
	// Sherpa's own export maps completely.
	if got := store.AutoMap(store.ImportContacts, store.ContactExportHeader); slices.Contains(got, "") {
		t.Errorf("contact export header maps to %q", got)
	}
	if got := store.AutoMap(store.ImportDeals, store.DealExportHeader); slices.Contains(got, "") {
		t.Errorf("deal export header maps to %q", got)
	}
	// A duplicate header maps once.
	if got := store.AutoMap(store.ImportContacts, []string{"Email", "E-mail", "Name"}); !slices.Equal(got, []string{"email", "", "name"}) {
		t.Errorf("duplicate headers: %q", got)
	}
}

func TestImportHubSpotAndPipedriveFixtures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		it := newImportTeam(t, s, "Hub")
		data, _ := os.ReadFile("../testdata/hubspot-contacts.csv")
		im := upload(t, s, it, store.ImportContacts, "hubspot.csv", data)
		im = preview(t, s, it, im, func(m *store.ImportMapping) { m.Unknown = store.UnknownReject })
		p := im.PreviewInfo()
		if p.Create != 4 || p.Reject != 1 || !strings.Contains(p.Samples["reject"][0].Reason, `"Customer" is not one of Sherpa's values`) {
			t.Fatalf("preview %+v", p)
		}
		if n := len(teamContacts(t, s, it.team.ID)); n != 0 {
			t.Fatalf("the dry run wrote %d contacts", n)
		}
		// Map the unknown value to a status instead.
		im = preview(t, s, it, im, func(m *store.ImportMapping) {
			m.Values = map[string]string{store.ValueKey("status", "customer"): store.StatusConnected}
		})
		im = runImport(t, s, it, im)
		if im.Status != store.ImportDone || im.Created != 5 || im.Rejected != 0 {
			t.Fatalf("import %+v", im)
		}
		got := teamContacts(t, s, it.team.ID)
		if c := got["ana.muller@example.com"]; c.Name != "Ana Müller" || c.Status != store.StatusOpen || c.Company != "Acme GmbH" {
			t.Errorf("ana %+v", c)
		}
		if c := got["bob.smith@example.com"]; c.Status != store.StatusInProgress {
			t.Errorf("bob %+v", c)
		}
		if c := got["eve@example.com"]; c.Status != store.StatusConnected {
			t.Errorf("eve %+v", c)
		}
		// Imported contacts are found by search like hand-made ones.
		page, err := s.ListContacts(context.Background(), it.team.ID, store.ContactQuery{Search: "muller"})
		if err != nil || len(page.Rows) != 1 {
			t.Fatalf("search: %v %+v", err, page.Rows)
		}

		deals, _ := os.ReadFile("../testdata/pipedrive-deals.csv")
		im = upload(t, s, it, store.ImportDeals, "pipedrive.csv", deals)
		if m := im.MappingInfo(); m.DateOrder != "dmy" {
			t.Errorf("date order %q", m.DateOrder)
		}
		im = preview(t, s, it, im, nil)
		p = im.PreviewInfo()
		if p.Create != 3 || p.Reject != 1 || !strings.Contains(p.Samples["reject"][0].Reason, "zed@example.com") {
			t.Fatalf("deal preview %+v", p)
		}
		im = runImport(t, s, it, im)
		var ds []store.Deal
		if err := s.DB.NewSelect().Model(&ds).Where("team_id = ?", it.team.ID).Order("name").Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(ds) != 3 || ds[0].Name != "Acme renewal" || ds[0].Amount != 123450 || ds[0].Stage != store.StageQualified ||
			ds[0].CloseDate.Format(time.DateOnly) != "2026-04-15" || ds[1].Amount != 1200000 || ds[0].ContactName != "Ana Müller" {
			t.Fatalf("deals %+v", ds)
		}
		var rejects []string
		if err := s.ImportRejects(context.Background(), it.team.ID, im.ID, func(rec []string, reason string) error {
			rejects = append(rejects, rec[0]+"|"+reason)
			return nil
		}); err != nil || len(rejects) != 1 || !strings.HasPrefix(rejects[0], "Nobody's deal|Contact email") {
			t.Fatalf("rejects %v %v", err, rejects)
		}
	})
}

func TestImportParsesAmountsAndDates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		it := newImportTeam(t, s, "Money")
		addContact(t, s, it.team, it.owner, store.ContactInput{Name: "Ann", Email: "ann@example.com"})
		data := "Name,Amount,Close date,Contact email\n" +
			"a,1234.50,2026-01-02,ann@example.com\n" +
			"b,\"1,234.50\",2026-01-03,ann@example.com\n" +
			"c,\"1.234,50\",2026-01-04,ann@example.com\n" +
			"d,12x,2026-01-05,ann@example.com\n" +
			"e,5,03/04/2026,ann@example.com\n" +
			"f,5,2026-02-30,ann@example.com\n"
		im := upload(t, s, it, store.ImportDeals, "d.csv", []byte(data))
		if _, err := s.SaveImportMapping(context.Background(), it.team.ID, im.ID, im.MappingInfo()); err == nil {
			t.Fatal("an ambiguous date order was accepted without a choice")
		}
		im = preview(t, s, it, im, func(m *store.ImportMapping) { m.DateOrder = "mdy" })
		p := im.PreviewInfo()
		if p.Create != 4 || p.Reject != 2 {
			t.Fatalf("preview %+v", p)
		}
		im = runImport(t, s, it, im)
		var ds []store.Deal
		_ = s.DB.NewSelect().Model(&ds).Where("team_id = ?", it.team.ID).Order("name").Scan(context.Background())
		if len(ds) != 4 || ds[0].Amount != 123450 || ds[1].Amount != 123450 || ds[2].Amount != 123450 || ds[3].CloseDate.Format(time.DateOnly) != "2026-03-04" {
			t.Fatalf("deals %+v", ds)
		}
	})
}

func TestImportDedupeModes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		file := "Email,Name,Phone,Company\n" +
			"OLD@example.com,Old Renamed,,New Co\n" + // existing; phone empty: kept
			"new@example.com,New Person,123 456,\n" +
			"new@EXAMPLE.com,New Again,,\n" + // duplicate within the file
			"same@example.com,Same,,Same Co\n" // existing, nothing changes
		for _, mode := range store.ImportModes {
			t.Run(mode, func(t *testing.T) {
				it := newImportTeam(t, s, "Mode"+mode)
				old := addContact(t, s, it.team, it.owner, store.ContactInput{Name: "Old", Email: "old@example.com", Phone: "555 0100", Company: "Old Co"})
				addContact(t, s, it.team, it.owner, store.ContactInput{Name: "Same", Email: "same@example.com", Company: "Same Co"})
				other := newImportTeam(t, s, "Other"+mode) // another team's same email is not a duplicate
				addContact(t, s, other.team, other.owner, store.ContactInput{Name: "Theirs", Email: "new@example.com"})
				im := importAll(t, s, it, store.ImportContacts, file, func(m *store.ImportMapping) { m.Mode = mode })
				want := map[string][4]int64{
					store.ModeCreate: {1, 0, 3, 0},
					store.ModeUpsert: {1, 1, 2, 0},
					store.ModeUpdate: {0, 1, 3, 0},
				}[mode]
				if got := [4]int64{im.Created, im.Updated, im.Skipped, im.Rejected}; got != want {
					t.Fatalf("created/updated/skipped/rejected %v, want %v", got, want)
				}
				if p := im.PreviewInfo(); [4]int64{int64(p.Create), int64(p.Update), int64(p.Skip), int64(p.Reject)} != want {
					t.Fatalf("the dry run said %+v, the import did %v", p, want)
				}
				got := teamContacts(t, s, it.team.ID)
				o := got["old@example.com"]
				if mode == store.ModeCreate {
					if o.Name != "Old" || o.Company != "Old Co" {
						t.Errorf("create mode changed the existing contact: %+v", o)
					}
				} else if o.Name != "Old Renamed" || o.Company != "New Co" || o.Phone != "555 0100" || o.Version != old.Version+1 {
					t.Errorf("update: %+v (phone must stay, version must move)", o)
				}
				if n, ok := got["new@example.com"]; ok != (mode != store.ModeUpdate) || (ok && n.Name != "New Person") {
					t.Errorf("new contact %v %+v", ok, n)
				}
				if theirs := teamContacts(t, s, other.team.ID)["new@example.com"]; theirs.Name != "Theirs" {
					t.Errorf("other team's contact changed: %+v", theirs)
				}
				_ = ctx
			})
		}
	})
}

func TestImportUndo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		it := newImportTeam(t, s, "Undo")
		a := addContact(t, s, it.team, it.owner, store.ContactInput{Name: "Alpha", Email: "a@example.com", Company: "A Co"})
		b := addContact(t, s, it.team, it.owner, store.ContactInput{Name: "Beta", Email: "b@example.com", Company: "B Co"})
		deal := addDeal(t, s, it.team, it.owner, a, store.DealInput{Name: "Alpha deal"})
		file := "Email,Name,Company\na@example.com,Alpha New,A2\nb@example.com,Beta New,B2\nc@example.com,Gamma,\nd@example.com,Delta,\n"
		im := importAll(t, s, it, store.ImportContacts, file, func(m *store.ImportMapping) { m.Mode = store.ModeUpsert })
		if im.Created != 2 || im.Updated != 2 {
			t.Fatalf("import %+v", im)
		}
		if d, _ := s.DealByID(ctx, it.team.ID, deal.ID); d.ContactName != "Alpha New" {
			t.Errorf("deal of a renamed contact: %q", d.ContactName)
		}
		got := teamContacts(t, s, it.team.ID)
		// Someone edits b and d after the import: undo leaves them alone.
		bNow := got["b@example.com"]
		if _, err := s.UpdateContact(ctx, it.team.ID, it.owner, bNow.ID, bNow.Version, store.ContactInput{Name: "Beta Edited", Email: "b@example.com"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddNote(ctx, it.team.ID, it.owner, got["d@example.com"].ID, "called"); err != nil {
			t.Fatal(err)
		}
		notes, err := s.ContactImportNotes(ctx, it.team.ID, got["c@example.com"].ID)
		if err != nil || len(notes) != 1 || notes[0].FileName != "test.csv" || notes[0].Action != "created" || notes[0].UserName != it.owner.Name {
			t.Fatalf("activity notes %v %+v", err, notes)
		}
		im, err = s.UndoImport(ctx, it.team.ID, im.ID, it.owner)
		if err != nil {
			t.Fatal(err)
		}
		if im.Status != store.ImportUndone || im.UndoKept != 2 || im.UndoneBy != it.owner.ID {
			t.Fatalf("undone %+v", im)
		}
		got = teamContacts(t, s, it.team.ID)
		if c := got["a@example.com"]; c.Name != "Alpha" || c.Company != "A Co" || c.Version != a.Version+2 {
			t.Errorf("a not restored: %+v", c)
		}
		if d, _ := s.DealByID(ctx, it.team.ID, deal.ID); d.ContactName != "Alpha" {
			t.Errorf("deal after undo: %q", d.ContactName)
		}
		if c := got["b@example.com"]; c.Name != "Beta Edited" {
			t.Errorf("b changed since, must stay: %+v (was %+v)", c, b)
		}
		if _, ok := got["c@example.com"]; ok {
			t.Error("c created by the import is still there")
		}
		if _, ok := got["d@example.com"]; !ok {
			t.Error("d has a note since the import and must stay")
		}
		kept, err := s.ImportKept(ctx, it.team.ID, im.ID, 10)
		if err != nil || len(kept) != 2 || kept[0].Name != "Beta Edited" || kept[1].Name != "Delta" {
			t.Fatalf("kept %v %+v", err, kept)
		}
		page, _ := s.ListContacts(ctx, it.team.ID, store.ContactQuery{Search: "alpha"})
		if len(page.Rows) != 1 {
			t.Errorf("search terms not restored: %+v", page.Rows)
		}
		if page, _ := s.ListContacts(ctx, it.team.ID, store.ContactQuery{Search: "A2"}); len(page.Rows) != 0 {
			t.Errorf("imported terms left: %+v", page.Rows)
		}
		if _, err := s.UndoImport(ctx, it.team.ID, im.ID, it.owner); !errors.Is(err, store.ErrImportState) {
			t.Fatalf("second undo: %v", err)
		}
		other := newImportTeam(t, s, "Nosy")
		if _, err := s.UndoImport(ctx, other.team.ID, im.ID, other.owner); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another team's undo: %v", err)
		}
	})
}

func TestImportRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		src := newImportTeam(t, s, "Src")
		var cs []*store.Contact
		for i := 0; i < 250; i++ {
			in := store.ContactInput{Name: fmt.Sprintf("Person %03d", i), Email: fmt.Sprintf("p%03d@example.com", i),
				Status: store.ContactStatuses[i%len(store.ContactStatuses)], OwnerID: src.owner.ID}
			if i%3 == 0 {
				in.Phone, in.Company, in.OwnerID = "+49 30 1234", "=Formula & Co", 0
			}
			cs = append(cs, addContact(t, s, src.team, src.owner, in))
		}
		for i := 0; i < 30; i++ {
			in := store.DealInput{Name: fmt.Sprintf("Deal %02d", i), Goal: "1,000.00", Amount: fmt.Sprintf("%d.5", 100+i), Stage: store.Stages[i%len(store.Stages)], CloseDate: "2026-05-01"}
			if i%4 == 0 {
				in.CloseDate = ""
				in.Stage = store.StageCreated
			}
			if in.Stage == store.StageLost {
				in.LostReason = store.DefaultLostReasons[0]
			}
			addDeal(t, s, src.team, src.owner, cs[i], in)
		}
		exportCSV := func(teamID int64, kind string) []byte {
			var b bytes.Buffer
			w := csv.NewWriter(&b)
			emit := func(recs [][]string) error {
				for _, r := range recs {
					for i := range r {
						r[i] = store.NeutralizeCell(r[i])
					}
				}
				return w.WriteAll(recs)
			}
			var err error
			if kind == store.ImportDeals {
				_ = w.Write(store.DealExportHeader)
				err = s.ExportDeals(ctx, teamID, store.DealQuery{}, emit)
			} else {
				_ = w.Write(store.ContactExportHeader)
				err = s.ExportContacts(ctx, teamID, store.ContactQuery{}, emit)
			}
			if err != nil {
				t.Fatal(err)
			}
			w.Flush()
			return b.Bytes()
		}
		dst := newImportTeam(t, s, "Dst")
		// The same member email does not exist in the new team: map owners by
		// value to the new team's owner.
		contactsFile := exportCSV(src.team.ID, store.ImportContacts)
		im := upload(t, s, dst, store.ImportContacts, "contacts.csv", contactsFile)
		im = preview(t, s, dst, im, func(m *store.ImportMapping) {
			m.Values = map[string]string{store.ValueKey("owner", src.owner.Email): fmt.Sprint(dst.owner.ID)}
		})
		if im = runImport(t, s, dst, im); im.Created != 250 || im.Rejected != 0 {
			t.Fatalf("contacts import %+v", im)
		}
		im = upload(t, s, dst, store.ImportDeals, "deals.csv", exportCSV(src.team.ID, store.ImportDeals))
		im = preview(t, s, dst, im, func(m *store.ImportMapping) {
			m.Values = map[string]string{store.ValueKey("owner", src.owner.Email): fmt.Sprint(dst.owner.ID)}
		})
		if im = runImport(t, s, dst, im); im.Created != 30 || im.Rejected != 0 {
			t.Fatalf("deals import %+v (%+v)", im, im.PreviewInfo())
		}
		// Exporting the new team gives the same file, but for the owner.
		norm := func(b []byte, from string) string { return strings.ReplaceAll(string(b), from, "OWNER") }
		for _, kind := range []string{store.ImportContacts, store.ImportDeals} {
			a, b := norm(exportCSV(src.team.ID, kind), src.owner.Email), norm(exportCSV(dst.team.ID, kind), dst.owner.Email)
			if a != b {
				t.Errorf("%s differ after the round trip:\n%s\n---\n%s", kind, a[:min(len(a), 600)], b[:min(len(b), 600)])
			}
		}
	})
}

// dealTotals recounts deal_month_totals from the deals themselves.
func checkDealTotals(t *testing.T, s *store.Store, teamID int64) int {
	t.Helper()
	ctx := context.Background()
	var ds []store.Deal
	if err := s.DB.NewSelect().Model(&ds).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	type key struct{ month, stage string }
	want := map[key][3]int64{}
	for _, d := range ds {
		if d.CloseDate.IsZero() {
			continue
		}
		k := key{d.CloseDate.Format("2006-01"), d.Stage}
		v := want[k]
		want[k] = [3]int64{v[0] + 1, v[1] + d.Amount, v[2] + d.Goal}
	}
	var rows []struct {
		Month  time.Time `bun:"month"`
		Stage  string    `bun:"stage"`
		Deals  int64     `bun:"deals"`
		Amount int64     `bun:"amount"`
		Goal   int64     `bun:"goal"`
	}
	if err := s.DB.NewRaw("SELECT month, stage, deals, amount, goal FROM deal_month_totals WHERE team_id = ?", teamID).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	got := map[key][3]int64{}
	for _, r := range rows {
		if r.Deals != 0 || r.Amount != 0 || r.Goal != 0 {
			got[key{r.Month.Format("2006-01"), r.Stage}] = [3]int64{r.Deals, r.Amount, r.Goal}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("dashboard totals %v, recount %v", got, want)
	}
	return len(ds)
}

func TestImportKeepsDashboardTotalsRight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		it := newImportTeam(t, s, "Dash")
		var b strings.Builder
		b.WriteString("Email,Name\n")
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&b, "c%d@example.com,C %d\n", i, i)
		}
		importAll(t, s, it, store.ImportContacts, b.String(), nil)
		var before int64
		_ = s.DB.NewRaw("SELECT version FROM team_changes WHERE team_id = ?", it.team.ID).Scan(ctx, &before)
		b.Reset()
		b.WriteString("Name,Stage,Goal,Amount,Close date,Contact email\n")
		for i := 0; i < 1500; i++ { // two batches
			stage := store.Stages[i%len(store.Stages)]
			fmt.Fprintf(&b, "D%d,%s,%d,%d.25,2026-%02d-1%d,c%d@example.com\n", i, stage, i, i+1, 1+i%12, i%9, i%40)
		}
		im := importAll(t, s, it, store.ImportDeals, b.String(), nil)
		if im.Created != 1500 {
			t.Fatalf("import %+v %+v", im, im.PreviewInfo())
		}
		if n := checkDealTotals(t, s, it.team.ID); n != 1500 {
			t.Fatalf("%d deals", n)
		}
		var after int64
		_ = s.DB.NewRaw("SELECT version FROM team_changes WHERE team_id = ?", it.team.ID).Scan(ctx, &after)
		if after <= before {
			t.Errorf("the dashboard's change signal did not move: %d → %d", before, after)
		}
		var logged int
		_ = s.DB.NewRaw("SELECT COUNT(*) FROM deal_stage_log WHERE team_id = ?", it.team.ID).Scan(ctx, &logged)
		if want := 1500 + 1500*5/6; logged != want {
			t.Errorf("stage log has %d rows, want %d", logged, want)
		}
		if _, err := s.UndoImport(ctx, it.team.ID, im.ID, it.owner); err != nil {
			t.Fatal(err)
		}
		if n := checkDealTotals(t, s, it.team.ID); n != 0 {
			t.Fatalf("%d deals after undo", n)
		}
	})
}

func TestImportBadInputSaysWhy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		it := newImportTeam(t, s, "Bad")
		big := strings.Repeat("x", 1<<20)
		file := "Email,Name,Email\n" + // duplicate header
			"ok@example.com,Fine,\n" +
			"ragged@example.com,Too,many,cells\n" +
			"=cmd|' /C calc'!A0,Formula,\n" +
			"long@example.com," + big + ",\n" +
			"bad\xffutf@example.com,Bad Bytes,\n" +
			"'=neutral@example.com,Neutral,\n" +
			"\"unclosed@example.com,Broken,\n"
		im := upload(t, s, it, store.ImportContacts, "bad.csv", []byte(file))
		d := im.DetectedInfo()
		if d.Encoding != "UTF-8" || len(d.Warnings) == 0 || !strings.Contains(d.Warnings[0], "appears twice") {
			t.Fatalf("detected %+v", d.Warnings)
		}
		im = preview(t, s, it, im, nil)
		p := im.PreviewInfo()
		if p.Create != 2 || p.Reject != 5 {
			t.Fatalf("preview %+v", p)
		}
		var reasons []string
		for _, r := range p.Samples["reject"] {
			reasons = append(reasons, r.Reason)
		}
		for _, want := range []string{"it has 4 cells but the header has 3", "looks like a spreadsheet formula", "Name must be at most 100", "not valid UTF-8", "Email"} {
			if !strings.Contains(strings.Join(reasons, "\n"), want) {
				t.Errorf("no reason %q in %q", want, reasons)
			}
		}
		im = runImport(t, s, it, im)
		if im.Created != 2 || im.Rejected != 5 {
			t.Fatalf("import %+v", im)
		}
		n := 0
		_ = s.ImportRejects(context.Background(), it.team.ID, im.ID, func(rec []string, reason string) error {
			n++
			if reason == "" {
				t.Error("reject without reason")
			}
			return nil
		})
		if n != 5 {
			t.Errorf("%d rejects in the report", n)
		}
	})
}

func TestImportResumesAfterALostWorker(t *testing.T) {
	defer store.SetImportJobBatch(1000)() // batches of 1,000 rows, pipelined ones too
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		s.SetClock(func() time.Time { return now })
		it := newImportTeam(t, s, "Resume")
		var b strings.Builder
		b.WriteString("Email,Name\n")
		for i := 0; i < 2500; i++ {
			fmt.Fprintf(&b, "r%d@example.com,R %d\n", i, i)
		}
		im := upload(t, s, it, store.ImportContacts, "r.csv", []byte(b.String()))
		im = preview(t, s, it, im, nil)
		if err := s.StartImport(ctx, it.team.ID, im.ID); err != nil {
			t.Fatal(err)
		}
		job, err := s.ClaimImport(ctx, "dead-instance")
		if err != nil || job == nil {
			t.Fatalf("claim: %v %v", job, err)
		}
		if again, _ := s.ClaimImport(ctx, "other"); again != nil {
			t.Fatal("a leased job was claimed twice")
		}
		// The first instance commits one batch and dies: simulated by a run
		// on a context that ends after the first batch's commit.
		cctx, cancel := context.WithCancel(ctx)
		s.DB.AddQueryHook(&cancelAfter{prefix: "rows_done = rows_done +", cancel: cancel})
		t.Log(s.RunImport(cctx, job, "dead-instance"))
		cur, _ := s.ImportByID(ctx, it.team.ID, im.ID)
		if cur.RowsDone != 1000 || cur.Status != store.ImportRunning {
			t.Fatalf("after the crash: status %s, %d rows done", cur.Status, cur.RowsDone)
		}
		now = now.Add(2 * store.ImportLease)
		cur = runImport2(t, s, it, im)
		if cur.Status != store.ImportDone || cur.Created != 2500 || cur.RowsDone != 2500 {
			t.Fatalf("resumed: status %s, %d rows done, %d created", cur.Status, cur.RowsDone, cur.Created)
		}
		if n := len(teamContacts(t, s, it.team.ID)); n != 2500 {
			t.Fatalf("%d contacts", n)
		}
	})
}

// runImport2 lets a worker run whatever is claimable.
func runImport2(t *testing.T, s *store.Store, it importTeam, im *store.Import) *store.Import {
	t.Helper()
	ctx := context.Background()
	for {
		job, err := s.ClaimImport(ctx, "second-instance")
		if err != nil {
			t.Fatal(err)
		}
		if job == nil {
			break
		}
		if err := s.RunImport(ctx, job, "second-instance"); err != nil {
			t.Fatal(err)
		}
	}
	im, _ = s.ImportByID(ctx, it.team.ID, im.ID)
	return im
}

// cancelAfter ends a context once the first import batch has committed.
type cancelAfter struct {
	prefix      string
	cancel      func()
	armed, done bool
	mu          sync.Mutex // the job's batches run on two goroutines on MySQL
}

func (h *cancelAfter) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context { return ctx }

func (h *cancelAfter) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	h.mu.Lock()
	fire := false
	switch {
	case h.done:
	case strings.Contains(e.Query, h.prefix):
		h.armed = true
	case h.armed && e.Query == "COMMIT":
		h.done, fire = true, true
	}
	h.mu.Unlock()
	if fire {
		h.cancel() // unlocked: its own queries come through here too
	}
}

func TestImportCancelStopsAfterTheCurrentBatch(t *testing.T) {
	defer store.SetImportJobBatch(1000)() // batches of 1,000 rows, pipelined ones too
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		it := newImportTeam(t, s, "Cancel")
		var b strings.Builder
		b.WriteString("Email,Name\n")
		for i := 0; i < 2500; i++ {
			fmt.Fprintf(&b, "x%d@example.com,X %d\n", i, i)
		}
		im := upload(t, s, it, store.ImportContacts, "x.csv", []byte(b.String()))
		im = preview(t, s, it, im, nil)
		if err := s.StartImport(ctx, it.team.ID, im.ID); err != nil {
			t.Fatal(err)
		}
		job, err := s.ClaimImport(ctx, "w")
		if err != nil || job == nil {
			t.Fatal(job, err)
		}
		// Cancel right after the first batch commits.
		s.DB.AddQueryHook(&afterCommit{prefix: "rows_done = rows_done +", fn: func() {
			if err := s.CancelImport(context.Background(), it.team.ID, im.ID); err != nil {
				t.Error(err)
			}
		}})
		if err := s.RunImport(ctx, job, "w"); err != nil {
			t.Fatal(err)
		}
		cur, _ := s.ImportByID(ctx, it.team.ID, im.ID)
		if cur.Status != store.ImportCancelled || cur.Created != 1000 || cur.RowsDone != 1000 {
			t.Fatalf("cancelled job: %s, %d created", cur.Status, cur.Created)
		}
		if again, _ := s.ClaimImport(ctx, "w2"); again != nil {
			t.Fatal("a cancelled job was claimed again")
		}
		// What the committed batch wrote can be undone.
		if cur, err = s.UndoImport(ctx, it.team.ID, im.ID, it.owner); err != nil || cur.Status != store.ImportUndone {
			t.Fatalf("undo: %v", err)
		}
		if n := len(teamContacts(t, s, it.team.ID)); n != 0 {
			t.Fatalf("%d contacts left", n)
		}
	})
}

// afterCommit calls fn once, after the commit of the first transaction that
// ran a query containing prefix.
type afterCommit struct {
	prefix      string
	fn          func()
	armed, done bool
	mu          sync.Mutex // the job's batches run on two goroutines on MySQL
}

func (h *afterCommit) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context { return ctx }

func (h *afterCommit) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	h.mu.Lock()
	fire := false
	switch {
	case h.done:
	case strings.Contains(e.Query, h.prefix):
		h.armed = true
	case h.armed && e.Query == "COMMIT":
		h.done, fire = true, true
	}
	h.mu.Unlock()
	if fire {
		h.fn() // unlocked: its own queries come through here too
	}
}

// busyPacer is an import pacer that always finds the app busy: the job
// waits (calls it) before every batch.
type busyPacer func(ctx context.Context)

func (busyPacer) Busy() bool                 { return true }
func (busyPacer) Recent() bool               { return true }
func (p busyPacer) Wait(ctx context.Context) { p(ctx) }

// TestRunImportPacedCallsPaceBeforeEachBatch: the pace hook runs once per
// batch, outside its transaction (it can read what the batches before it
// committed), and the paced job imports the same rows as an unpaced one.
func TestRunImportPacedCallsPaceBeforeEachBatch(t *testing.T) {
	defer store.SetImportJobBatch(2)()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		it := newImportTeam(t, s, "Paced")
		data := "Email,Name\na@example.com,A\nb@example.com,B\nc@example.com,C\nd@example.com,D\ne@example.com,E\n"
		im := preview(t, s, it, upload(t, s, it, store.ImportContacts, "paced.csv", []byte(data)), nil)
		if err := s.StartImport(ctx, it.team.ID, im.ID); err != nil {
			t.Fatal(err)
		}
		job, err := s.ClaimImport(ctx, "paced")
		if err != nil || job == nil {
			t.Fatalf("claim: %v %v", err, job)
		}
		var seen []int
		err = s.RunImportPaced(ctx, job, "paced", busyPacer(func(ctx context.Context) {
			seen = append(seen, len(teamContacts(t, s, it.team.ID)))
		}))
		if err != nil {
			t.Fatal(err)
		}
		// Called between the statements of a batch too, from where the
		// committed batches end.
		if want := []int{0, 2, 4}; !slices.Equal(slices.Compact(seen), want) {
			t.Errorf("contacts seen by pace before each batch = %v, want %v", seen, want)
		}
		done, err := s.ImportByID(ctx, it.team.ID, im.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != store.ImportDone || len(teamContacts(t, s, it.team.ID)) != 5 {
			t.Errorf("paced import: status %s, %d contacts, want done and 5", done.Status, len(teamContacts(t, s, it.team.ID)))
		}
	})
}

// TestImportBatchesInFlightMatchOneAtATime: with batches of two rows (on
// MySQL two of them run at once in create mode, store/imports_pipe.go)
// duplicates in the file across neighbouring and farther batches, an
// existing contact and undo come out as a job that runs its batches one at
// a time does.
func TestImportBatchesInFlightMatchOneAtATime(t *testing.T) {
	defer store.SetImportJobBatch(2)()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		it := newImportTeam(t, s, "Flight")
		old := addContact(t, s, it.team, it.owner, store.ContactInput{Name: "Old", Email: "old@example.com"})
		file := "Email,Name\n" +
			"a@example.com,A1\nb@example.com,B1\n" +
			"c@example.com,C1\nA@example.com,A2\n" + // a again, in the next batch
			"e@example.com,E\nf@example.com,F\n" +
			"g@example.com,G\nc@example.com,C2\n" + // c again, two batches later
			"old@example.com,Old New\nh@example.com,H\n" +
			"i@example.com,I\n"
		im := importAll(t, s, it, store.ImportContacts, file, func(m *store.ImportMapping) { m.Mode = store.ModeCreate })
		if got, want := [4]int64{im.Created, im.Updated, im.Skipped, im.Rejected}, [4]int64{8, 0, 3, 0}; got != want || im.RowsDone != 11 {
			t.Fatalf("created/updated/skipped/rejected %v (rows done %d), want %v and 11", got, im.RowsDone, want)
		}
		got := teamContacts(t, s, it.team.ID)
		for email, name := range map[string]string{"a@example.com": "A1", "c@example.com": "C1", "old@example.com": "Old", "i@example.com": "I"} {
			if got[email].Name != name {
				t.Errorf("%s is %q, want %q", email, got[email].Name, name)
			}
		}
		if len(got) != 9 {
			t.Errorf("%d contacts, want 9", len(got))
		}
		if page, _ := s.ListContacts(ctx, it.team.ID, store.ContactQuery{Search: "c1"}); len(page.Rows) != 1 {
			t.Errorf("search c1: %d rows", len(page.Rows))
		}
		if _, err := s.UndoImport(ctx, it.team.ID, im.ID, it.owner); err != nil {
			t.Fatal(err)
		}
		got = teamContacts(t, s, it.team.ID)
		if len(got) != 1 || got["old@example.com"].Name != "Old" || got["old@example.com"].ID != old.ID {
			t.Errorf("after undo: %+v", got)
		}
	})
}

// recentPacer finds no request in flight but some served a moment ago
// (ImportPacer.Recent): the job never waits, and runs one batch at a time.
type recentPacer struct{}

func (recentPacer) Busy() bool               { return false }
func (recentPacer) Recent() bool             { return true }
func (recentPacer) Wait(ctx context.Context) {}

// batchOrder records, in the order they start, the job's contact inserts
// and the commits; it makes each batch's end slow.
type batchOrder struct {
	mu  sync.Mutex
	seq []string
}

func (h *batchOrder) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	q := e.Query
	if strings.Contains(q, "rows_done = rows_done +") {
		time.Sleep(30 * time.Millisecond) // a batch's end takes a while: the next one could start meanwhile
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case q == "COMMIT":
		h.seq = append(h.seq, "commit")
	case strings.HasPrefix(q, "INSERT INTO ") && strings.Contains(q[:30], "contacts") && !strings.Contains(q[:30], "contact_"):
		h.seq = append(h.seq, "insert")
	}
	return ctx
}

func (h *batchOrder) AfterQuery(ctx context.Context, e *bun.QueryEvent) {}

// TestImportOneBatchAtATimeWhileTheAppServes: while the pacer says the app
// served requests lately, a create-only job (pipelined on MySQL) starts a
// batch's inserts only after the batch before it committed, and imports
// the same rows.
func TestImportOneBatchAtATimeWhileTheAppServes(t *testing.T) {
	defer store.SetImportJobBatch(2)()
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		it := newImportTeam(t, s, "Recent")
		data := "Email,Name\na@example.com,A\nb@example.com,B\nc@example.com,C\nd@example.com,D\ne@example.com,E\nf@example.com,F\n"
		im := preview(t, s, it, upload(t, s, it, store.ImportContacts, "recent.csv", []byte(data)), nil)
		if err := s.StartImport(ctx, it.team.ID, im.ID); err != nil {
			t.Fatal(err)
		}
		job, err := s.ClaimImport(ctx, "recent")
		if err != nil || job == nil {
			t.Fatalf("claim: %v %v", err, job)
		}
		h := &batchOrder{}
		s.DB.AddQueryHook(h)
		if err := s.RunImportPaced(ctx, job, "recent", recentPacer{}); err != nil {
			t.Fatal(err)
		}
		h.mu.Lock()
		seq := slices.Clone(h.seq)
		h.mu.Unlock()
		inserts := 0
		for i, op := range seq {
			if op != "insert" {
				continue
			}
			inserts++
			if j := slices.Index(seq[i+1:], "insert"); j >= 0 && !slices.Contains(seq[i+1:i+1+j], "commit") {
				t.Fatalf("a batch's inserts started before the batch before it committed: %v", seq)
			}
		}
		if inserts != 3 {
			t.Errorf("%d contact inserts, want 3 (batches of 2): %v", inserts, seq)
		}
		if n := len(teamContacts(t, s, it.team.ID)); n != 6 {
			t.Errorf("%d contacts, want 6", n)
		}
	})
}
