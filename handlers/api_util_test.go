package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"sherpa/handlers"
	"sherpa/store"
	"sherpa/store/storetest"
)

// apiClient calls the API with one key, and checks every answer against
// the OpenAPI document (see apiSpec).
type apiClient struct {
	a     *testApp
	token string
}

type apiResp struct {
	status int
	header http.Header
	body   []byte
	t      testing.TB
}

// obj decodes the body as a JSON object.
func (r *apiResp) obj() map[string]any {
	r.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		r.t.Fatalf("answer is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// id reads a numeric field of the answer.
func (r *apiResp) id(field string) int64 {
	r.t.Helper()
	v, ok := r.obj()[field].(float64)
	if !ok {
		r.t.Fatalf("no number %q in %s", field, r.body)
	}
	return int64(v)
}

func (r *apiResp) str(field string) string {
	r.t.Helper()
	v, _ := r.obj()[field].(string)
	return v
}

// data is the rows of a list answer.
func (r *apiResp) data() []map[string]any {
	r.t.Helper()
	var l struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(r.body, &l); err != nil {
		r.t.Fatalf("not a list: %v\n%s", err, r.body)
	}
	return l.Data
}

// fieldError is the problem's message for a field.
func (r *apiResp) fieldError(field string) string {
	r.t.Helper()
	errs, _ := r.obj()["errors"].(map[string]any)
	msg, _ := errs[field].(string)
	return msg
}

func (r *apiResp) expect(want int) *apiResp {
	r.t.Helper()
	if r.status != want {
		r.t.Fatalf("status %d, want %d\n%s", r.status, want, r.body)
	}
	return r
}

// apiKey makes an API key on the profile page of a logged-in client.
func (a *testApp) apiKey(c *client, name, scope string) *apiClient {
	a.t.Helper()
	r := c.post("/profile/api-keys", form("name", name, "scope", scope))
	expectStatus(a.t, r, http.StatusOK)
	token, ok := r.doc(a.t).Find(`[data-testid=new-api-key]`).Attr("value")
	if !ok || !strings.HasPrefix(token, "sherpa_") {
		a.t.Fatalf("no new key on the profile page:\n%s", r.body)
	}
	return &apiClient{a: a, token: token}
}

// call sends a request; body is nil, a string (sent as it is) or a value
// sent as JSON.
func (k *apiClient) call(method, path string, body any, headers ...string) *apiResp {
	t := k.a.t
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req := httptest.NewRequest(method, "http://sherpa.test/api/v1"+path, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if k.token != "" {
		req.Header.Set("Authorization", "Bearer "+k.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := k.a.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := &apiResp{status: resp.StatusCode, header: resp.Header, body: b, t: t}
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%s %s: %d\n%s", method, path, resp.StatusCode, b)
	}
	spec().check(t, method, req.URL.Path, r)
	return r
}

func (k *apiClient) get(path string, headers ...string) *apiResp {
	return k.call("GET", path, nil, headers...)
}

// apiSpec checks answers against the OpenAPI document: the operation of
// the path and method, its documented status (or the default problem), the
// content type, and the body against the schema. It notes which operations
// were exercised.
type apiSpec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
	seen     map[string]bool
}

var spec = sync.OnceValue(func() *apiSpec {
	raw := handlers.OpenAPIDocument()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		panic(err)
	}
	res, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		panic(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("https://sherpa.test/openapi.json", res); err != nil {
		panic(err)
	}
	return &apiSpec{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}, seen: map[string]bool{}}
})

func (sp *apiSpec) paths() map[string]any { return sp.doc["paths"].(map[string]any) }

// template finds the documented path a request path matches; literal
// segments win over parameters ("/contacts/export.csv" over "/contacts/{id}").
func (sp *apiSpec) template(path string) string {
	best, bestScore := "", -1
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for tmpl := range sp.paths() {
		ts := strings.Split(strings.Trim(tmpl, "/"), "/")
		if len(ts) != len(segs) {
			continue
		}
		score := 0
		for i := range ts {
			switch {
			case ts[i] == segs[i]:
				score++
			case strings.HasPrefix(ts[i], "{"):
			default:
				score = -1
			}
			if score < 0 {
				break
			}
		}
		if score > bestScore {
			best, bestScore = tmpl, score
		}
	}
	return best
}

func (sp *apiSpec) schema(t testing.TB, pointer string) *jsonschema.Schema {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if s, ok := sp.schemas[pointer]; ok {
		return s
	}
	s, err := sp.compiler.Compile("https://sherpa.test/openapi.json#" + pointer)
	if err != nil {
		t.Fatalf("compile %s: %v", pointer, err)
	}
	sp.schemas[pointer] = s
	return s
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func (sp *apiSpec) check(t testing.TB, method, fullPath string, r *apiResp) {
	t.Helper()
	path := strings.TrimPrefix(fullPath, "/api/v1")
	method = strings.ToLower(method)
	tmpl := sp.template(path)
	var op map[string]any
	if tmpl != "" {
		op, _ = sp.paths()[tmpl].(map[string]any)[method].(map[string]any)
	}
	ctype := strings.TrimSpace(strings.Split(r.header.Get("Content-Type"), ";")[0])
	if op == nil {
		// Not an operation: only a problem may answer.
		if r.status < 400 || ctype != "application/problem+json" {
			t.Fatalf("%s %s is not in the OpenAPI document but answered %d %s", method, path, r.status, ctype)
		}
		sp.validate(t, "/components/schemas/Problem", r)
		return
	}
	sp.mu.Lock()
	sp.seen[method+" "+tmpl+" "+strconv.Itoa(r.status)] = true
	sp.mu.Unlock()
	responses := op["responses"].(map[string]any)
	key := strconv.Itoa(r.status)
	resp, ok := responses[key].(map[string]any)
	if !ok {
		if r.status < 400 {
			t.Fatalf("%s %s answered %d, which the document does not list", method, tmpl, r.status)
		}
		key, resp = "default", responses["default"].(map[string]any)
	}
	content, _ := resp["content"].(map[string]any)
	if content == nil {
		if len(r.body) != 0 {
			t.Fatalf("%s %s %d: documented without a body, answered %q", method, tmpl, r.status, r.body)
		}
		return
	}
	media, ok := content[ctype].(map[string]any)
	if !ok {
		t.Fatalf("%s %s %d: content type %q is not documented (%v)", method, tmpl, r.status, ctype, content)
	}
	if ctype != "application/json" && ctype != "application/problem+json" {
		return
	}
	if _, ok := media["schema"].(map[string]any)["$ref"]; !ok && tmpl == "/openapi.json" {
		return
	}
	sp.validate(t, "/paths/"+escapePointer(tmpl)+"/"+method+"/responses/"+key+"/content/"+escapePointer(ctype)+"/schema", r)
}

func (sp *apiSpec) validate(t testing.TB, pointer string, r *apiResp) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("answer is not JSON: %v\n%s", err, r.body)
	}
	if err := sp.schema(t, pointer).Validate(v); err != nil {
		t.Fatalf("answer does not match %s: %v\n%s", pointer, err, r.body)
	}
}

// operations lists every documented "method path".
func (sp *apiSpec) operations() []string {
	var out []string
	for p, item := range sp.paths() {
		for m := range item.(map[string]any) {
			out = append(out, m+" "+p)
		}
	}
	sort.Strings(out)
	return out
}

var routeParam = regexp.MustCompile(`:(\w+)`)

// fiberPath turns "/contacts/:id" into "/contacts/{id}".
func openAPIPath(fiberPath string) string {
	return routeParam.ReplaceAllString(fiberPath, "{$1}")
}

func jsonf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// storeEach runs fn on a fresh store of each database, for tests that
// build their own apps.
func storeEach(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	storetest.Each(t, fn)
}

// testClock is a store clock the test moves; it is set before the app
// starts (the app's workers read the clock from their own goroutines).
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) get() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *testClock) advance(d time.Duration) { c.set(c.get().Add(d)) }

// useTestClock puts a movable clock, at start, into st.
func useTestClock(t testing.TB, st *store.Store, start time.Time) *testClock {
	c := &testClock{now: start}
	t.Cleanup(st.SetClock(c.get))
	return c
}
