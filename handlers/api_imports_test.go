package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestAPIImportAndUndo(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testApp) {
		tm := a.apiTeam("Import")
		k := tm.ownerKey
		csv := "Name,Email,Company\nAda,ada@import.test,Engines\nBob,bob@import.test,\n"
		tm.memberKey.call("POST", "/imports?kind=contacts", csv, "Content-Type", "text/csv").expect(http.StatusForbidden)
		k.call("POST", "/imports?kind=people", csv, "Content-Type", "text/csv").expect(http.StatusBadRequest)
		up := k.call("POST", "/imports?kind=contacts&file_name=people.csv", csv, "Content-Type", "text/csv").expect(http.StatusCreated)
		id := up.id("id")
		var proposed struct {
			Mapping json.RawMessage `json:"mapping"`
		}
		json.Unmarshal(up.body, &proposed)
		// Start before the dry run: refused.
		k.call("POST", fmt.Sprintf("/imports/%d/start", id), nil).expect(http.StatusConflict)
		k.call("PUT", fmt.Sprintf("/imports/%d/mapping", id), `{"columns": ["name"], "colour": 1}`).expect(http.StatusUnprocessableEntity)
		pre := k.call("PUT", fmt.Sprintf("/imports/%d/mapping", id), string(proposed.Mapping)).expect(http.StatusOK)
		var p struct {
			Preview struct{ Create int } `json:"preview"`
		}
		json.Unmarshal(pre.body, &p)
		if p.Preview.Create != 2 || pre.str("status") != "previewed" {
			t.Fatalf("dry run: %s", pre.body)
		}
		k.call("POST", fmt.Sprintf("/imports/%d/start", id), nil).expect(http.StatusAccepted)
		deadline := time.Now().Add(time.Minute)
		for k.get(fmt.Sprintf("/imports/%d", id)).expect(http.StatusOK).str("status") != "done" {
			if time.Now().After(deadline) {
				t.Fatal("the import did not finish")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if rows := k.get("/contacts?q=import.test").expect(http.StatusOK).data(); len(rows) != 2 {
			t.Fatalf("imported %d contacts", len(rows))
		}
		if rows := k.get("/imports").expect(http.StatusOK).data(); len(rows) != 1 {
			t.Fatalf("imports: %v", rows)
		}
		k.call("PUT", fmt.Sprintf("/imports/%d/mapping", id), string(proposed.Mapping)).expect(http.StatusConflict)
		k.call("POST", fmt.Sprintf("/imports/%d/cancel", id), nil).expect(http.StatusConflict)
		// The undo runs as a job: the answer is the import undoing (or
		// already undone); it is polled until undone.
		if u := k.call("POST", fmt.Sprintf("/imports/%d/undo", id), nil).expect(http.StatusAccepted); u.str("status") != "undoing" && u.str("status") != "undone" {
			t.Fatalf("undo: %s", u.body)
		}
		for k.get(fmt.Sprintf("/imports/%d", id)).expect(http.StatusOK).str("status") != "undone" {
			if time.Now().After(deadline) {
				t.Fatal("the undo did not finish")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if u := k.get(fmt.Sprintf("/imports/%d", id)); u.id("undo_done") != 2 || u.id("undo_kept") != 0 {
			t.Fatalf("undone: %s", u.body)
		}
		k.call("POST", fmt.Sprintf("/imports/%d/undo", id), nil).expect(http.StatusConflict)
		if rows := k.get("/contacts?q=import.test").expect(http.StatusOK).data(); len(rows) != 0 {
			t.Fatalf("%d contacts after undo", len(rows))
		}
		// Another team's import: 404.
		other := a.apiTeam("Other importers")
		other.ownerKey.get(fmt.Sprintf("/imports/%d", id)).expect(http.StatusNotFound)
		other.ownerKey.call("POST", fmt.Sprintf("/imports/%d/undo", id), nil).expect(http.StatusNotFound)
	})
}
