package handlers

import (
	"encoding/json"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
)

// The OpenAPI 3.1 document of /api/v1, built once from the tables below.
// TestAPIConformance keeps it true: every route is in it, every operation
// in it is a route, and every answer the handlers give in the API tests is
// checked against its schema.

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func str() obj              { return obj{"type": "string"} }
func strFmt(f string) obj   { return obj{"type": "string", "format": f} }
func integer() obj          { return obj{"type": "integer"} }
func nullable(t string) obj { return obj{"type": []string{t, "null"}} }
func enum(vals []string) obj {
	return obj{"type": "string", "enum": vals}
}

// object is a closed object schema; required lists the fields always there.
func object(props obj, required ...string) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// record is an answer object: every property is always present.
func record(props obj) obj {
	req := make([]string, 0, len(props))
	for k := range props {
		req = append(req, k)
	}
	return object(props, sortedStrings(req)...)
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func listOf(item string) obj {
	return object(obj{"data": obj{"type": "array", "items": ref(item)},
		"next": obj{"type": "string", "description": "cursor of the next page; absent on the last"},
		"prev": obj{"type": "string", "description": "cursor of the previous page; absent on the first"}}, "data")
}

func apiSchemas() obj {
	money := obj{"type": []string{"string", "number", "null"}, "description": "an amount in the team's currency: \"1234.50\", \"1,234.50\" or a number"}
	contactFields := obj{
		"name": str(), "email": strFmt("email"), "phone": str(), "company": str(),
		"status":   enum(store.ContactStatuses),
		"owner_id": obj{"type": []string{"integer", "null"}, "description": "a member's id, or null for unassigned (owners and admins only; a member's contact is theirs)"},
	}
	dealFields := obj{
		"name": str(), "stage": enum(store.Stages), "goal": money, "amount": money,
		"close_date": obj{"type": []string{"string", "null"}, "description": "YYYY-MM-DD"},
		"owner_id":   obj{"type": []string{"integer", "null"}}, "contact_id": integer(), "company": str(),
		"closed_on":   obj{"type": "string", "description": "when closing: the day it closed, YYYY-MM-DD (default today in the team's zone)"},
		"lost_reason": obj{"type": "string", "description": "when closing as lost: one of GET /lost-reasons"},
		"lost_note":   str(),
	}
	withVersion := func(fields obj) obj {
		o := obj{"version": obj{"type": "integer", "description": "the version of the record you read"}}
		for k, v := range fields {
			o[k] = v
		}
		return o
	}
	return obj{
		"Contact": record(obj{
			"id": integer(), "name": str(), "email": str(), "phone": str(), "company": str(), "status": enum(store.ContactStatuses),
			"owner_id": nullable("integer"), "owner_name": str(), "version": integer(),
			"created_at": strFmt("date-time"), "updated_at": strFmt("date-time"),
		}),
		"ContactCreate": object(contactFields, "name", "email"),
		"ContactUpdate": object(withVersion(contactFields), "version"),
		"ContactList":   listOf("Contact"),
		"Deal": record(obj{
			"id": integer(), "name": str(), "stage": enum(store.Stages), "currency": str(),
			"goal": str(), "goal_minor": integer(), "amount": str(), "amount_minor": integer(),
			"close_date": nullable("string"), "owner_id": nullable("integer"), "owner_name": str(),
			"contact_id": integer(), "contact_name": str(), "company": str(), "lost_reason": str(), "lost_note": str(),
			"closed_at": obj{"type": []string{"string", "null"}, "format": "date-time"}, "version": integer(),
			"created_at": strFmt("date-time"), "updated_at": strFmt("date-time"),
		}),
		"DealCreate": object(dealFields, "name", "contact_id"),
		"DealUpdate": object(withVersion(dealFields), "version"),
		"DealMove": object(obj{"stage": enum(store.Stages), "amount": money, "closed_on": str(), "lost_reason": str(), "lost_note": str()},
			"stage"),
		"DealList": listOf("Deal"),
		"StageLogEntry": record(obj{"from_stage": str(), "to_stage": str(), "kind": enum([]string{store.LogMove, store.LogUndone, store.LogReopen}),
			"user_id": integer(), "user_name": str(), "at": strFmt("date-time"), "reason": str(), "note": str()}),
		"StageLogList": listOf("StageLogEntry"),
		"Note": record(obj{"id": integer(), "contact_id": integer(), "author_id": integer(), "author_name": str(), "body": str(),
			"created_at": strFmt("date-time")}),
		"NoteCreate": object(obj{"body": str()}, "body"),
		"NoteList":   listOf("Note"),
		"Activity": record(obj{"id": integer(), "contact_id": integer(), "user_id": integer(), "user_name": str(),
			"type": enum(store.ActivityTypes), "description": str(), "at": strFmt("date-time"),
			"due_at": obj{"type": []string{"string", "null"}, "format": "date-time"}}),
		"ActivityList": listOf("Activity"),
		"Member":       record(obj{"id": integer(), "name": str(), "email": str(), "role": enum([]string{store.RoleOwner, store.RoleAdmin, store.RoleMember})}),
		"MemberList":   listOf("Member"),
		"StringList":   object(obj{"data": obj{"type": "array", "items": str()}}, "data"),
		"Me": record(obj{"user": ref("Member"),
			"team": record(obj{"id": integer(), "name": str(), "currency": str(), "time_zone": str()}),
			"key":  record(obj{"id": integer(), "name": str(), "scope": enum([]string{store.ScopeRead, store.ScopeWrite})})}),
		"Import": record(obj{"id": integer(), "kind": enum([]string{store.ImportContacts, store.ImportDeals}), "file_name": str(),
			"status": str(), "mode": str(), "rows_done": integer(), "rows_total": integer(), "created": integer(), "updated": integer(),
			"skipped": integer(), "rejected": integer(), "error": str(),
			"detected":    obj{"type": "object", "description": "encoding, delimiter, header, sample rows, date orders, values per column, problem"},
			"mapping":     obj{"type": "object", "description": "the saved (or proposed) ImportMapping"},
			"preview":     obj{"type": []string{"object", "null"}, "description": "the dry run: rows, create, update, skip, reject, samples, reasons"},
			"created_at":  strFmt("date-time"),
			"started_at":  obj{"type": []string{"string", "null"}, "format": "date-time"},
			"finished_at": obj{"type": []string{"string", "null"}, "format": "date-time"},
			"undone_at":   obj{"type": []string{"string", "null"}, "format": "date-time"},
			"undo_done":   integer(), "undo_kept": integer()}),
		"ImportList": listOf("Import"),
		"ImportMapping": object(obj{
			"columns":       obj{"type": "array", "items": str(), "description": "per column of the file: the field it fills (name, email, …) or \"\" to ignore it"},
			"mode":          enum([]string{store.ModeCreate, store.ModeUpdate, store.ModeUpsert}),
			"date_order":    str(),
			"values":        obj{"type": "object", "additionalProperties": str(), "description": "field|value as written → status, stage or member id; \"-\" rejects the row"},
			"unknown":       enum([]string{store.UnknownDefault, store.UnknownReject}),
			"unknown_owner": enum([]string{store.UnknownUnassigned, store.UnknownReject}),
		}, "columns"),
		"Problem": object(obj{
			"type": str(), "title": str(), "status": integer(), "detail": str(), "instance": str(),
			"code":        obj{"type": "string", "description": "machine-readable: invalid, not_found, version_conflict, rate_limited, read_only_key, …"},
			"errors":      obj{"type": "object", "additionalProperties": str(), "description": "field → message, as the forms show them"},
			"current":     obj{"description": "on version_conflict: the record as it is now"},
			"existing_id": obj{"type": "integer", "description": "on duplicate: the contact that has this email"},
			"request_id":  str(),
		}, "type", "title", "status", "code"),
	}
}

// apiOp is one operation of the document.
type apiOp struct {
	method, path, summary string
	body                  string   // request schema, "" for none
	ok                    int      // success status
	okSchema              string   // "" for no body
	okType                string   // content type when not JSON
	params                []string // query parameter sets: "list", "limit"
	public                bool
}

func apiOps() []apiOp {
	return []apiOp{
		{method: "get", path: "/openapi.json", summary: "This document", ok: 200, okType: "application/json", public: true},
		{method: "get", path: "/me", summary: "The key's user, team and scope", ok: 200, okSchema: "Me"},
		{method: "get", path: "/contacts", summary: "List contacts (the contacts table: view, search, sort, cursor)", ok: 200, okSchema: "ContactList", params: []string{"contacts"}},
		{method: "post", path: "/contacts", summary: "Add a contact", body: "ContactCreate", ok: 201, okSchema: "Contact"},
		{method: "get", path: "/contacts/export.csv", summary: "Export the contacts of a view as CSV (every row)", ok: 200, okType: "text/csv", params: []string{"contacts-export"}},
		{method: "get", path: "/contacts/{id}", summary: "One contact", ok: 200, okSchema: "Contact"},
		{method: "patch", path: "/contacts/{id}", summary: "Change a contact (fields absent keep their values; a stale version answers 409 with the current record)", body: "ContactUpdate", ok: 200, okSchema: "Contact"},
		{method: "delete", path: "/contacts/{id}", summary: "Delete a contact with its deals, notes and activities", ok: 204},
		{method: "get", path: "/contacts/{id}/deals", summary: "The contact's deals, newest first", ok: 200, okSchema: "DealList"},
		{method: "get", path: "/contacts/{id}/activities", summary: "The contact's activities, newest first", ok: 200, okSchema: "ActivityList", params: []string{"limit"}},
		{method: "get", path: "/contacts/{id}/notes", summary: "The contact's notes, newest first", ok: 200, okSchema: "NoteList"},
		{method: "post", path: "/contacts/{id}/notes", summary: "Add a note (logs a note activity)", body: "NoteCreate", ok: 201, okSchema: "Note"},
		{method: "delete", path: "/contacts/{id}/notes/{note}", summary: "Remove a note (its author, or an owner or admin)", ok: 204},
		{method: "get", path: "/deals", summary: "List deals (the deals table)", ok: 200, okSchema: "DealList", params: []string{"deals"}},
		{method: "post", path: "/deals", summary: "Add a deal", body: "DealCreate", ok: 201, okSchema: "Deal"},
		{method: "get", path: "/deals/export.csv", summary: "Export the deals of a view as CSV", ok: 200, okType: "text/csv", params: []string{"deals-export"}},
		{method: "get", path: "/deals/{id}", summary: "One deal", ok: 200, okSchema: "Deal"},
		{method: "patch", path: "/deals/{id}", summary: "Change a deal by the table's rules (stages only forward, closing rules, closed deals read-only; stale version → 409)", body: "DealUpdate", ok: 200, okSchema: "Deal"},
		{method: "delete", path: "/deals/{id}", summary: "Delete a deal", ok: 204},
		{method: "post", path: "/deals/{id}/move", summary: "Move a deal to a later stage, as on the board (no version needed)", body: "DealMove", ok: 200, okSchema: "Deal"},
		{method: "post", path: "/deals/{id}/reopen", summary: "Reopen a closed deal (owners and admins)", ok: 200, okSchema: "Deal"},
		{method: "get", path: "/deals/{id}/stages", summary: "The deal's stage history, oldest first", ok: 200, okSchema: "StageLogList"},
		{method: "get", path: "/members", summary: "The team's members", ok: 200, okSchema: "MemberList"},
		{method: "get", path: "/members/{id}", summary: "One member", ok: 200, okSchema: "Member"},
		{method: "get", path: "/lost-reasons", summary: "The team's lost reasons", ok: 200, okSchema: "StringList"},
		{method: "get", path: "/imports", summary: "The team's latest imports", ok: 200, okSchema: "ImportList"},
		{method: "post", path: "/imports", summary: "Upload a CSV file (the body, text/csv, streamed, up to the import limit (SHERPA_IMPORT_MAX_BYTES, 200 MB by default); an Idempotency-Key works only up to 1 MB) as a new import; the answer has the detected columns and a proposed mapping", body: "CSV", ok: 201, okSchema: "Import", params: []string{"import"}},
		{method: "get", path: "/imports/{id}", summary: "One import, with its progress", ok: 200, okSchema: "Import"},
		{method: "put", path: "/imports/{id}/mapping", summary: "Save the mapping and run the dry run (its result is in preview)", body: "ImportMapping", ok: 200, okSchema: "Import"},
		{method: "post", path: "/imports/{id}/start", summary: "Start a dry-run import; it runs in the background (poll GET /imports/{id})", ok: 202, okSchema: "Import"},
		{method: "post", path: "/imports/{id}/cancel", summary: "Cancel a running import", ok: 200, okSchema: "Import"},
		{method: "post", path: "/imports/{id}/undo", summary: "Undo a finished import: it runs as a job (status undoing, undo_done of created + updated, then undone); records changed since are kept", ok: 202, okSchema: "Import"},
	}
}

func listParams(views, sorts []string) []obj {
	q := func(name, desc string, schema obj) obj {
		return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": schema}
	}
	return []obj{
		q("view", "whose records", enum(views)),
		q("q", "search, as in the table's search box", str()),
		q("sort", "sort column", enum(sorts)),
		q("dir", "sort direction", enum([]string{"asc", "desc"})),
		q("cursor", "next or prev of an earlier page", str()),
		q("limit", "rows per page (default 25)", obj{"type": "integer", "minimum": 1, "maximum": 200}),
	}
}

func buildOpenAPI() obj {
	paths := obj{}
	problem := obj{"description": "a problem (RFC 9457)", "content": obj{problemJSON: obj{"schema": ref("Problem")}}}
	for _, op := range apiOps() {
		item, _ := paths[op.path].(obj)
		if item == nil {
			item = obj{}
			paths[op.path] = item
		}
		o := obj{"summary": op.summary, "operationId": op.method + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_", "-", "_").Replace(op.path)}
		var params []obj
		for _, name := range []string{"id", "note"} {
			if strings.Contains(op.path, "{"+name+"}") {
				params = append(params, obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "integer", "minimum": 1}})
			}
		}
		for _, p := range op.params {
			switch p {
			case "contacts", "contacts-export":
				params = append(params, listParams(contactViews, store.ContactSorts)...)
			case "deals", "deals-export":
				params = append(params, listParams(dealViews, store.DealSorts)...)
			case "import":
				params = append(params,
					obj{"name": "kind", "in": "query", "required": true, "schema": enum([]string{store.ImportContacts, store.ImportDeals})},
					obj{"name": "file_name", "in": "query", "schema": str()})
			case "limit":
				params = append(params, obj{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": 1000}})
			}
		}
		if op.method == "post" && !op.public {
			params = append(params, obj{"name": "Idempotency-Key", "in": "header", "required": false,
				"description": "a retried POST with the same key and body acts once and gets the first answer again (kept 24 h)",
				"schema":      obj{"type": "string", "maxLength": 255}})
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		switch op.body {
		case "":
		case "CSV":
			o["requestBody"] = obj{"required": true, "content": obj{"text/csv": obj{"schema": str()}}}
		default:
			o["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(op.body)}}}
		}
		success := obj{"description": "success"}
		switch {
		case op.okSchema != "":
			success["content"] = obj{"application/json": obj{"schema": ref(op.okSchema)}}
		case op.okType != "":
			success["content"] = obj{op.okType: obj{"schema": str()}}
		}
		if !op.public {
			success["headers"] = obj{
				"RateLimit-Limit":     obj{"$ref": "#/components/headers/RateLimit-Limit"},
				"RateLimit-Remaining": obj{"$ref": "#/components/headers/RateLimit-Remaining"},
				"RateLimit-Reset":     obj{"$ref": "#/components/headers/RateLimit-Reset"},
			}
		}
		o["responses"] = obj{itoa(op.ok): success, "default": problem}
		if op.public {
			o["security"] = []any{}
		}
		item[op.method] = o
	}
	hdr := func(desc string) obj { return obj{"description": desc, "schema": obj{"type": "integer"}} }
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": "Sherpa API", "version": "1",
			"description": "Everything a person can do in Sherpa's tables, for scripts. Authenticate with a personal API key " +
				"(profile page) as 'Authorization: Bearer KEY'; a key acts as its user, with the user's role, in the team it was made in. " +
				"Read-only keys may only GET. Errors are application/problem+json (RFC 9457) with the forms' field messages in errors. " +
				"Lists page with opaque cursors (next, prev). Each key may send 50 requests a second on average, 100 at once " +
				"(RateLimit-* headers; 429 with Retry-After beyond)."},
		"servers": []obj{{"url": apiPrefix}},
		"paths":   paths,
		"components": obj{
			"schemas":         apiSchemas(),
			"securitySchemes": obj{"bearerAuth": obj{"type": "http", "scheme": "bearer", "description": "a personal API key, sherpa_…"}},
			"headers": obj{
				"RateLimit-Limit":     hdr("requests a full bucket allows at once"),
				"RateLimit-Remaining": hdr("requests that may follow at once"),
				"RateLimit-Reset":     hdr("seconds until the bucket is full again"),
			},
		},
		"security": []obj{{"bearerAuth": []string{}}},
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

var openAPIDoc = sync.OnceValue(func() []byte {
	b, err := json.MarshalIndent(buildOpenAPI(), "", "  ")
	if err != nil {
		panic("openapi: " + err.Error())
	}
	return b
})

// OpenAPIDocument is the API's OpenAPI 3.1 document.
func OpenAPIDocument() []byte { return openAPIDoc() }

func (s *Server) apiOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(OpenAPIDocument())
}
