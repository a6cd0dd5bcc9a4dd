package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"sherpa/store"
)

// TestAPIConformance keeps the OpenAPI document true: every /api/v1 route
// of the running app is in it and every operation in it is a route, the
// document is OpenAPI 3.1, and a tour of every operation gets answers that
// match their documented status, content type and schema (apiClient checks
// each answer; the other API tests go through the same check).
func TestAPIConformance(t *testing.T) {
	a := newSQLiteApp(t)
	var routes []string
	for _, r := range a.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == http.MethodHead {
			continue
		}
		op := strings.ToLower(r.Method) + " " + openAPIPath(strings.TrimPrefix(r.Path, "/api/v1"))
		if !slices.Contains(routes, op) {
			routes = append(routes, op)
		}
	}
	sort.Strings(routes)
	documented := spec().operations()
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("the OpenAPI document has %s, which is no route", d)
		}
	}
	if spec().doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi version %v", spec().doc["openapi"])
	}

	// The document is served without a key.
	doc := (&apiClient{a: a}).get("/openapi.json").expect(http.StatusOK)
	var served map[string]any
	if err := json.Unmarshal(doc.body, &served); err != nil || served["openapi"] != "3.1.0" {
		t.Fatalf("served document: %v", err)
	}

	// The tour: every operation once, with its success answer.
	tm := a.apiTeam("Tour")
	k := tm.ownerKey
	k.get("/me").expect(http.StatusOK)
	cid := k.call("POST", "/contacts", map[string]any{"name": "Tour", "email": "tour@example.com"}).expect(http.StatusCreated).id("id")
	k.get("/contacts").expect(http.StatusOK)
	k.get("/contacts/export.csv").expect(http.StatusOK)
	k.get(fmt.Sprintf("/contacts/%d", cid)).expect(http.StatusOK)
	k.call("PATCH", fmt.Sprintf("/contacts/%d", cid), map[string]any{"phone": "+1 555 0100", "version": 1}).expect(http.StatusOK)
	nid := k.call("POST", fmt.Sprintf("/contacts/%d/notes", cid), map[string]any{"body": "tour note"}).expect(http.StatusCreated).id("id")
	k.get(fmt.Sprintf("/contacts/%d/notes", cid)).expect(http.StatusOK)
	k.get(fmt.Sprintf("/contacts/%d/activities", cid)).expect(http.StatusOK)
	k.call("DELETE", fmt.Sprintf("/contacts/%d/notes/%d", cid, nid), nil).expect(http.StatusNoContent)
	did := k.call("POST", "/deals", map[string]any{"name": "Tour deal", "contact_id": cid, "close_date": "2026-09-01"}).expect(http.StatusCreated).id("id")
	k.get("/deals").expect(http.StatusOK)
	k.get("/deals/export.csv").expect(http.StatusOK)
	k.get(fmt.Sprintf("/contacts/%d/deals", cid)).expect(http.StatusOK)
	k.get(fmt.Sprintf("/deals/%d", did)).expect(http.StatusOK)
	k.call("PATCH", fmt.Sprintf("/deals/%d", did), map[string]any{"goal": "10", "version": 1}).expect(http.StatusOK)
	k.call("POST", fmt.Sprintf("/deals/%d/move", did), map[string]any{"stage": store.StageLost, "lost_reason": "Price"}).expect(http.StatusOK)
	k.call("POST", fmt.Sprintf("/deals/%d/reopen", did), nil).expect(http.StatusOK)
	k.get(fmt.Sprintf("/deals/%d/stages", did)).expect(http.StatusOK)
	k.get("/members").expect(http.StatusOK)
	k.get(fmt.Sprintf("/members/%d", a.user(tm.ownerEmail).ID)).expect(http.StatusOK)
	k.get("/lost-reasons").expect(http.StatusOK)
	imp := k.call("POST", "/imports?kind=contacts", "Name,Email\nTour Import,ti@example.com\n", "Content-Type", "text/csv").expect(http.StatusCreated)
	var proposed struct {
		Mapping json.RawMessage `json:"mapping"`
	}
	json.Unmarshal(imp.body, &proposed)
	iid := imp.id("id")
	k.get("/imports").expect(http.StatusOK)
	k.get(fmt.Sprintf("/imports/%d", iid)).expect(http.StatusOK)
	k.call("PUT", fmt.Sprintf("/imports/%d/mapping", iid), string(proposed.Mapping)).expect(http.StatusOK)
	k.call("POST", fmt.Sprintf("/imports/%d/start", iid), nil).expect(http.StatusAccepted)
	for k.get(fmt.Sprintf("/imports/%d", iid)).str("status") != "done" {
		time.Sleep(10 * time.Millisecond)
	}
	k.call("POST", fmt.Sprintf("/imports/%d/undo", iid), nil).expect(http.StatusAccepted)
	imp2 := k.call("POST", "/imports?kind=contacts", "Name,Email\nTour Two,t2@example.com\n", "Content-Type", "text/csv").expect(http.StatusCreated)
	json.Unmarshal(imp2.body, &proposed)
	k.call("PUT", fmt.Sprintf("/imports/%d/mapping", imp2.id("id")), string(proposed.Mapping)).expect(http.StatusOK)
	// A cancel is only possible while queued or running; the worker may
	// win the race, which answers 409 (also documented).
	k.call("POST", fmt.Sprintf("/imports/%d/start", imp2.id("id")), nil).expect(http.StatusAccepted)
	if r := k.call("POST", fmt.Sprintf("/imports/%d/cancel", imp2.id("id")), nil); r.status != http.StatusOK && r.status != http.StatusConflict {
		t.Fatalf("cancel: %d", r.status)
	}
	k.call("DELETE", fmt.Sprintf("/deals/%d", did), nil).expect(http.StatusNoContent)
	k.call("DELETE", fmt.Sprintf("/contacts/%d", cid), nil).expect(http.StatusNoContent)
	// And refusals of each kind, checked against the problem schema.
	(&apiClient{a: a}).get("/contacts").expect(http.StatusUnauthorized)
	tm.readKey.call("POST", "/contacts", map[string]any{}).expect(http.StatusForbidden)
	k.get("/contacts/123456").expect(http.StatusNotFound)
	k.call("POST", "/contacts", `{"name": 1}`).expect(http.StatusUnprocessableEntity)
	k.call("POST", "/contacts", `[`).expect(http.StatusBadRequest)

	spec().mu.Lock()
	defer spec().mu.Unlock()
	for _, op := range documented {
		found := false
		for seen := range spec().seen {
			// Cancel races the import worker (see above): its 409 counts.
			if strings.HasPrefix(seen, op+" 2") || seen == "post /imports/{id}/cancel 409" && strings.HasPrefix(seen, op) {
				found = true
			}
		}
		if !found {
			t.Errorf("no test got a success answer from %s", op)
		}
	}
}
