package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"sherpa/store"
	"sherpa/store/storetest"
)

// listWrites are the write methods that can change what a contacts or
// deals table (or its page: tabs, member selects, settings) shows;
// TestEveryWriteMovesTheListVersion runs each of them and checks that the
// team's list version moved.
var listWrites = []string{
	"AcceptInvitation", "AddNote", "AdvanceNextSteps", "AssignContact", "AssignDeal", "CreateContact", "CreateDeal",
	"CreateTeam", "DeleteContact", "DeleteDeal", "DeleteView", "LeaveTeam", "LogActivity", "LogScheduled",
	"MoveDeal", "MoveView", "QueueBulkUndo", "RemoveMember", "RenameView", "ReopenDeal", "RunBulkJob", "RunImport", "RunImportPaced",
	"RunUndoPaced",
	"SaveView", "Seed", "SetBackBurnerDays", "SetListColumns", "SetLostReasons", "SetMemberRole",
	"SetMembersMayImport", "SetStageSettings", "ShareView", "TransferOwnership", "UndoImport", "UpdateContact",
	"UpdateDeal", "UpdateTeamSettings", "UpdateUserName", "UpdateViewQuery",
}

// termWrites are the list writes that can change what a search matches
// (TestEveryWriteMovesTheListVersion checks, write by write, that each
// moves the terms version when it changes a term and that no other write
// moves it): the search cache keeps its term sets across the others.
var termWrites = []string{
	"CreateContact", "CreateDeal", "DeleteContact", "DeleteDeal", "RunBulkJob", "RunImport", "RunImportPaced", "Seed",
	"RunUndoPaced", "UndoImport", "UpdateContact", "UpdateDeal",
}

// importBatchWrites are the list writes whose moves of the list version are
// import jobs' batches (TestEveryWriteMovesTheListVersion checks that
// they move the import version as much as the list version, and that no
// other write moves it): the list cache may serve a page drawn before
// them for a moment, and draws afresh after any other.
var importBatchWrites = []string{"RunImport", "RunImportPaced", "RunUndoPaced", "UndoImport"}

// notListWrites are the other methods of *store.Store: reads, and writes of
// things no list shows (sessions, logins, notes, invitations not yet accepted, API
// keys, webhooks, Google tokens, jobs' bookkeeping before they change
// rows). A new method must go in one of the two lists.
var notListWrites = []string{
	"APIKeyUser", "APIKeysOf", "Analyze", "BackBurnerCount", "BackBurnerDays", "Board", "BoardMore", "BoardPollVersions",
	"BulkDeleteImpact", "BulkJob", "BulkRows", "CanImport", "CancelImport", "ChangePassword", "ClaimBulkJob",
	"ClaimDeliveries", "ClaimForm", "ClaimIdempotencyKey", "ClaimImport", "Close", "ClosedVsGoal", "ContactByID",
	"ContactDeleteImpact", "ContactImportNotes", "ContactSearchPlan", "CountMatching", "CountUserSessions",
	"CreateAPIKey", "CreateBulkJob", "CreateImport", "CreateInvitation", "CreateOAuthState", "CreateUser",
	"CreateWebhookEndpoint", "DealByID", "DealStageLog", "DealsOfContact", "DeleteExpiredAPIState",
	"DeleteGoogleAccount", "DeleteNote", "DeleteOldWebhookLog", "DeleteWebhookEndpoint", "EnableWebhookEndpoint",
	"EndOtherSessions", "EnsureSetting", "ExportContacts", "ExportDeals", "FastContactRows", "FastDealRows", "GeneralContactRows", "GeneralDealRows", "FinishIdempotencyKey", "Forecast", "Funnel",
	"GoogleAccount", "ImportByID", "ImportKept", "ImportQueueDepth", "ImportRejects", "InTx", "InsertActivityForTest",
	"InsertDealForTest", "InvitationByTokenHash", "ListActivities", "ListColumns", "ListContacts", "ListCursorAt",
	"ListDeals", "ListImports", "ListNotes", "ListVersion", "LoadDashboard", "LoginSucceeded", "LostReasons",
	"MembersMayImport", "Migrate", "MigrateList", "NoteByID", "Now", "OnRetry", "PendingInvitations",
	"PendingInvitationsFor", "Ping", "PreviewImport", "QueueImportCheck", "QueueUndo", "Reconcile", "RecordDeliveries",
	"RecordDelivery", "RedeliverWebhook", "ReleaseForm", "ReleaseIdempotencyKey", "ReleaseLogin", "ReserveLogin",
	"RevokeAPIKey", "RevokeInvitation", "RunImportCheck", "RunImportCheckPaced", "SaveGoogleAccount", "SaveImportMapping", "SavedView",
	"SavedViews", "SearchAll", "SearchVersions", "SeedSecondTeam", "Sessions", "SetClock", "SetDealForTest", "SetPool",
	"SetTaskListID", "StageSettings", "StartImport", "TakeOAuthState", "TakeRate", "TakeRateN", "TaskListID",
	"TeamActivity", "TeamByID", "TeamCurrency", "TeamMember", "TeamMembers", "TeamToday", "TeamVersion", "TiDB",
	"UpdateGoogleToken", "UpdatePasswordHash", "UserAndTeam", "UserByEmail", "UserByID", "WebhookDeliveries",
	"WebhookEndpointByID", "WebhookEndpoints", "WebhookQueueDepth",
}

// TestEveryStoreMethodIsClassified keeps listWrites complete: a method added
// to the store must be placed in listWrites (and exercised below) or in
// notListWrites.
func TestEveryStoreMethodIsClassified(t *testing.T) {
	typ := reflect.TypeOf(&store.Store{})
	known := map[string]bool{}
	for _, n := range append(slices.Clone(listWrites), notListWrites...) {
		if known[n] {
			t.Errorf("%s is listed twice", n)
		}
		known[n] = true
	}
	var missing []string
	for i := range typ.NumMethod() {
		if n := typ.Method(i).Name; !known[n] {
			missing = append(missing, n)
		}
		delete(known, typ.Method(i).Name)
	}
	if len(missing) > 0 {
		t.Errorf("store methods in neither listWrites nor notListWrites (does the method change what a list shows? then it must move the list version): %v", missing)
	}
	for n := range known {
		t.Errorf("%s is listed but is no method of *store.Store", n)
	}
}

// TestEveryWriteMovesTheListVersion runs every method of listWrites and
// checks that the team's list version moved, and that another team's did
// not (its cached pages stay).
func TestEveryWriteMovesTheListVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		team, owner, admin, member := teamOf(t, s)
		other, otherOwner, _, _ := teamOf(t, s)
		oc := addContact(t, s, other, otherOwner, store.ContactInput{Name: "Oz"})
		version := func(teamID int64) int64 {
			t.Helper()
			v, err := s.ListVersion(ctx, teamID)
			if err != nil {
				t.Fatal(err)
			}
			if v <= 0 {
				t.Fatalf("team %d has no list version", teamID)
			}
			return v
		}
		termsVersion := func(teamID int64) int64 {
			t.Helper()
			v, err := s.SearchVersions(ctx, teamID)
			if err != nil {
				t.Fatal(err)
			}
			if v.Terms <= 0 || v.List <= 0 {
				t.Fatalf("team %d has no terms version: %+v", teamID, v)
			}
			return v.Terms
		}
		importVersion := func(teamID int64) int64 {
			t.Helper()
			v, err := s.SearchVersions(ctx, teamID)
			if err != nil {
				t.Fatal(err)
			}
			return v.Import
		}
		covered, coveredTerms := map[string]bool{}, map[string]bool{}
		last, lastOther := version(team.ID), version(other.ID)
		lastTerms, lastOtherTerms := termsVersion(team.ID), termsVersion(other.ID)
		lastImport, lastOtherImport := importVersion(team.ID), importVersion(other.ID)
		// step runs one write of the team and checks the versions: the
		// list version moves, and the terms version exactly when terms
		// says the write changes search terms.
		step := func(method string, terms bool, run func() error) {
			t.Helper()
			if err := run(); err != nil {
				t.Fatalf("%s: %v", method, err)
			}
			covered[method] = true
			v, vo := version(team.ID), version(other.ID)
			// The import version: an import job's batches move it with the
			// list version, one for one; nothing else moves it.
			iv, ivo := importVersion(team.ID), importVersion(other.ID)
			switch {
			case slices.Contains(importBatchWrites, method) && iv == lastImport:
				t.Errorf("%s (an import job) did not move the team's import version", method)
			case slices.Contains(importBatchWrites, method) && v-iv != last-lastImport:
				t.Errorf("%s moved the list version by %d but the import version by %d: its batches must move both", method, v-last, iv-lastImport)
			case !slices.Contains(importBatchWrites, method) && iv != lastImport:
				t.Errorf("%s is not an import job's batch but moved the team's import version (its change would show late)", method)
			case ivo != lastOtherImport:
				t.Errorf("%s of team %d moved team %d's import version", method, team.ID, other.ID)
			}
			lastImport, lastOtherImport = iv, ivo
			if v == last {
				t.Errorf("%s did not move the team's list version", method)
			}
			if vo != lastOther {
				t.Errorf("%s of team %d moved team %d's list version", method, team.ID, other.ID)
			}
			last, lastOther = v, vo
			tv, tvo := termsVersion(team.ID), termsVersion(other.ID)
			switch {
			case terms && tv == lastTerms:
				t.Errorf("%s changed search terms but did not move the team's terms version", method)
			case !terms && tv != lastTerms:
				t.Errorf("%s changed no search term but moved the team's terms version (the search cache's sets go cold)", method)
			case tvo != lastOtherTerms:
				t.Errorf("%s of team %d moved team %d's terms version", method, team.ID, other.ID)
			}
			if terms {
				if !slices.Contains(termWrites, method) {
					t.Errorf("%s moves the terms version but is not in termWrites", method)
				}
				coveredTerms[method] = true
			}
			lastTerms, lastOtherTerms = tv, tvo
		}
		var err error
		var c1, c2 *store.Contact
		step("CreateContact", true, func() error {
			c1, err = s.CreateContact(ctx, team.ID, owner, store.ContactInput{Name: "Cy One", Email: "cy1@example.com", Company: "Acme"})
			if err == nil {
				c2, err = s.CreateContact(ctx, team.ID, member, store.ContactInput{Name: "Cy Two", Email: "cy2@example.com"})
			}
			return err
		})
		step("UpdateContact", false, func() error {
			// A status change only: no deal, no chart sees it.
			c1, err = s.UpdateContact(ctx, team.ID, owner, c1.ID, c1.Version, store.ContactInput{Name: c1.Name, Email: c1.Email, Company: "Acme", Status: store.StatusConnected})
			return err
		})
		step("UpdateContact", true, func() error {
			// A rename: new terms.
			c1, err = s.UpdateContact(ctx, team.ID, owner, c1.ID, c1.Version, store.ContactInput{Name: "Cy Uno", Email: c1.Email, Company: "Acme", Status: store.StatusConnected})
			return err
		})
		step("UpdateContact", true, func() error {
			// The name's case only: the same terms, but the name sort's
			// order (an ordered set keyed by the terms version) may change.
			c1, err = s.UpdateContact(ctx, team.ID, owner, c1.ID, c1.Version, store.ContactInput{Name: "cy uno", Email: c1.Email, Company: "Acme", Status: store.StatusConnected})
			return err
		})
		step("UpdateContact", true, func() error {
			c1, err = s.UpdateContact(ctx, team.ID, owner, c1.ID, c1.Version, store.ContactInput{Name: "Cy One", Email: c1.Email, Company: "Acme", Phone: "+49 30 1234", Status: store.StatusConnected})
			return err
		})
		step("AssignContact", false, func() error { _, err := s.AssignContact(ctx, team.ID, owner, c2.ID, admin.ID); return err })
		var d1 *store.Deal
		step("CreateDeal", true, func() error {
			d1, err = s.CreateDeal(ctx, team.ID, owner, store.DealInput{Name: "D1", Goal: "100", ContactID: c1.ID})
			return err
		})
		step("UpdateDeal", true, func() error {
			d1, err = s.UpdateDeal(ctx, team.ID, owner, d1.ID, d1.Version, store.DealInput{Name: "D1", Goal: "100", Company: "Other Co", ContactID: c1.ID})
			return err
		})
		step("UpdateDeal", false, func() error {
			// The goal only.
			d1, err = s.UpdateDeal(ctx, team.ID, owner, d1.ID, d1.Version, store.DealInput{Name: "D1", Goal: "200", Company: "Other Co", ContactID: c1.ID})
			return err
		})
		step("UpdateDeal", true, func() error {
			d1, err = s.UpdateDeal(ctx, team.ID, owner, d1.ID, d1.Version, store.DealInput{Name: "D1 renamed", Goal: "200", Company: "Other Co", ContactID: c1.ID})
			return err
		})
		step("UpdateContact", true, func() error {
			// A rename of a contact with a deal: its deal's terms too.
			c1, err = s.UpdateContact(ctx, team.ID, owner, c1.ID, c1.Version, store.ContactInput{Name: "Cy Eins", Email: c1.Email, Company: "Acme", Phone: "+49 30 1234", Status: store.StatusConnected})
			return err
		})
		step("AssignDeal", false, func() error { d1, err = s.AssignDeal(ctx, team.ID, owner, d1.ID, member.ID); return err })
		step("MoveDeal", false, func() error {
			d1, err = s.MoveDeal(ctx, team.ID, owner, d1.ID, store.MoveInput{Stage: store.StageWon, Amount: "10", ClosedOn: "2026-01-02"})
			return err
		})
		step("ReopenDeal", false, func() error { d1, err = s.ReopenDeal(ctx, team.ID, owner, d1.ID); return err })
		step("LogActivity", false, func() error {
			_, err := s.LogActivity(ctx, team.ID, c1.ID, member.ID, store.ActivityEmail, "hello")
			return err
		})
		// A meeting a second ahead: its time passes, and AdvanceNextSteps
		// moves the contact's next step on.
		clock := time.Now().UTC()
		defer s.SetClock(func() time.Time { return clock })()
		step("LogScheduled", false, func() error {
			_, err := s.LogScheduled(ctx, team.ID, c2.ID, owner.ID, store.ActivityMeeting, "Meeting: soon", clock.Add(time.Second))
			return err
		})
		clock = clock.Add(time.Hour)
		step("AdvanceNextSteps", false, func() error {
			n, err := s.AdvanceNextSteps(ctx, team.ID)
			if err == nil && n != 1 {
				err = fmt.Errorf("moved %d next steps, want 1", n)
			}
			return err
		})
		var note *store.Note
		step("AddNote", false, func() error { note, err = s.AddNote(ctx, team.ID, admin, c1.ID, "a note"); return err })
		// Notes show on the contact's page, not in a list: deleting one
		// moves nothing (adding one announces itself, and counts).
		if err := s.DeleteNote(ctx, team.ID, admin, c1.ID, note.ID); err != nil {
			t.Fatal(err)
		}
		last = version(team.ID)

		var view *store.SavedView
		step("SaveView", false, func() error {
			view, err = s.SaveView(ctx, team.ID, owner, store.ListContacts, "Acme", "q=acme", false)
			return err
		})
		step("RenameView", false, func() error { return s.RenameView(ctx, team.ID, owner, view.ID, "Acme people") })
		step("UpdateViewQuery", false, func() error { return s.UpdateViewQuery(ctx, team.ID, owner, view.ID, "q=acme&sort=name") })
		step("ShareView", false, func() error { return s.ShareView(ctx, team.ID, owner, view.ID, true) })
		step("MoveView", false, func() error {
			if _, err := s.SaveView(ctx, team.ID, owner, store.ListContacts, "Second", "q=b", false); err != nil {
				return err
			}
			return s.MoveView(ctx, team.ID, owner, view.ID, 1)
		})
		step("DeleteView", false, func() error { return s.DeleteView(ctx, team.ID, owner, view.ID) })
		step("SetListColumns", false, func() error { return s.SetListColumns(ctx, member.ID, store.ListContacts, []string{"name", "email"}) })
		step("SetBackBurnerDays", false, func() error { return s.SetBackBurnerDays(ctx, team.ID, owner, 45) })
		step("SetLostReasons", false, func() error { return s.SetLostReasons(ctx, team.ID, owner, []string{"Price", "Timing"}) })
		step("SetStageSettings", false, func() error {
			return s.SetStageSettings(ctx, team.ID, owner, []store.StageSetting{{Stage: store.StageQualified, WinPercent: 30, StaleDays: 9}})
		})
		step("SetMembersMayImport", false, func() error { return s.SetMembersMayImport(ctx, team.ID, owner, false) })
		step("UpdateTeamSettings", false, func() error {
			_, err := s.UpdateTeamSettings(ctx, team.ID, owner, store.TeamSettings{TimeZone: "Europe/Berlin", Currency: "USD"})
			return err
		})
		step("UpdateUserName", false, func() error { return s.UpdateUserName(ctx, member.ID, "Member Renamed") })
		step("SetMemberRole", false, func() error { return s.SetMemberRole(ctx, team.ID, member.ID, store.RoleAdmin) })

		// Bulk changes and their undo.
		var job *store.BulkJob
		step("RunBulkJob", false, func() error {
			job, err = s.CreateBulkJob(ctx, team.ID, owner, store.ListContacts, store.BulkStatus, store.StatusBadTiming,
				store.BulkSelection{IDs: []int64{c1.ID, c2.ID}})
			if err == nil {
				runBulk(t, s)
			}
			return err
		})
		step("QueueBulkUndo", false, func() error {
			if _, err := s.QueueBulkUndo(ctx, team.ID, owner, job.ID); err != nil {
				return err
			}
			runBulk(t, s)
			return nil
		})
		step("RunBulkJob", true, func() error {
			doomed := addContact(t, s, team, owner, store.ContactInput{Name: "Doomed"})
			last, lastTerms = version(team.ID), termsVersion(team.ID)
			_, err := s.CreateBulkJob(ctx, team.ID, owner, store.ListContacts, store.BulkDelete, "", store.BulkSelection{IDs: []int64{doomed.ID}})
			if err == nil {
				runBulk(t, s)
			}
			return err
		})

		// Imports and their undo.
		it := newImportTeamFor(team, owner)
		var im *store.Import
		step("RunImport", true, func() error {
			im = importAll(t, s, it, store.ImportContacts, "Email,Name\nimp1@example.com,Imp One\nimp2@example.com,Imp Two\n", nil)
			return nil
		})
		step("UndoImport", true, func() error { _, err := s.UndoImport(ctx, team.ID, im.ID, owner); return err })
		var pim *store.Import
		step("RunImportPaced", true, func() error {
			pim = preview(t, s, it, upload(t, s, it, store.ImportContacts, "paced.csv", []byte("Email,Name\nimp3@example.com,Imp Three\n")), nil)
			if err := s.StartImport(ctx, team.ID, pim.ID); err != nil {
				return err
			}
			job, err := s.ClaimImport(ctx, "paced-worker")
			if err != nil || job == nil {
				return fmt.Errorf("claim the paced import: %v (job %v)", err, job)
			}
			return s.RunImportPaced(ctx, job, "paced-worker", busyPacer(func(context.Context) {}))
		})
		step("RunUndoPaced", true, func() error {
			if _, err := s.QueueUndo(ctx, team.ID, pim.ID, owner); err != nil {
				return err
			}
			job, err := s.ClaimImport(ctx, "undo-worker")
			if err != nil || job == nil || job.ID != pim.ID || job.Status != store.ImportUndoing {
				return fmt.Errorf("claim the undo: %v (job %v)", err, job)
			}
			return s.RunUndoPaced(ctx, job, "undo-worker", busyPacer(func(context.Context) {}))
		})

		step("DeleteDeal", true, func() error { return s.DeleteDeal(ctx, team.ID, owner, d1.ID) })
		step("DeleteContact", true, func() error { return s.DeleteContact(ctx, team.ID, owner, c2.ID) })

		// Membership: a newcomer joins, ownership moves, members go.
		newcomer := newUser(t, s, "newcomer")
		step("AcceptInvitation", false, func() error {
			inv, err := s.CreateInvitation(ctx, team.ID, owner.ID, newcomer.Email, "hash-list-"+newcomer.Email, time.Hour)
			if err != nil {
				return err
			}
			_, err = s.AcceptInvitation(ctx, inv.TokenHash, newcomer.ID)
			return err
		})
		step("TransferOwnership", false, func() error { return s.TransferOwnership(ctx, team.ID, owner.ID, admin.ID) })
		step("RemoveMember", false, func() error { return s.RemoveMember(ctx, team.ID, admin, newcomer.ID) })
		step("LeaveTeam", false, func() error { _, err := s.LeaveTeam(ctx, team.ID, member.ID); return err })

		// Writes that make a team: the new team starts with a list version
		// (so its pages can be cached), a seeded one has moved it, and
		// neither moves another team's.
		before, beforeOther := version(team.ID), version(other.ID)
		founder := newUser(t, s, "founder")
		nt, err := s.CreateTeam(ctx, founder.ID, "Fresh")
		if err != nil {
			t.Fatal(err)
		}
		covered["CreateTeam"] = true
		startAt := version(nt.ID)
		res, err := s.Seed(ctx, store.SeedOptions{OwnerEmail: "owner@seed-list.example.com", PasswordHash: "x", TeamName: "Seeded",
			Contacts: 30, Deals: 10, Now: time.Now().UTC(), Rand: rand.New(rand.NewPCG(1, 2)), NoSecondTeam: true})
		if err != nil {
			t.Fatal(err)
		}
		covered["Seed"] = true
		if v := version(res.TeamID); v <= startAt {
			t.Errorf("a seeded team's list version is %d, no more than a new team's %d", v, startAt)
		}
		if version(team.ID) != before || version(other.ID) != beforeOther {
			t.Errorf("creating and seeding teams moved other teams' list versions")
		}
		if v := termsVersion(res.TeamID); v <= termsVersion(nt.ID) {
			t.Errorf("a seeded team's terms version is %d, no more than a new team's %d", v, termsVersion(nt.ID))
		}
		coveredTerms["Seed"] = true

		// The other team's own write moves its version, not the team's.
		before, beforeOther = version(team.ID), version(other.ID)
		if err := s.DeleteContact(ctx, other.ID, otherOwner, oc.ID); err != nil {
			t.Fatal(err)
		}
		if version(other.ID) == beforeOther || version(team.ID) != before {
			t.Errorf("a write of team %d: its list version %d → %d, team %d's %d → %d", other.ID, beforeOther, version(other.ID), team.ID, before, version(team.ID))
		}
		var untested []string
		for _, m := range listWrites {
			if !covered[m] {
				untested = append(untested, m)
			}
		}
		sort.Strings(untested)
		if len(untested) > 0 {
			t.Errorf("list writes the test did not run: %s", strings.Join(untested, ", "))
		}
		var untestedTerms []string
		for _, m := range termWrites {
			if !coveredTerms[m] {
				untestedTerms = append(untestedTerms, m)
			}
		}
		if len(untestedTerms) > 0 {
			t.Errorf("term writes the test did not run as such: %s", strings.Join(untestedTerms, ", "))
		}
	})
}
