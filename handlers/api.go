package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"sherpa/store"
)

// The JSON API at /api/v1. It runs over the same store methods as the
// pages, authenticated by personal API keys (Authorization: Bearer), never
// by the session cookie: the API routes are mounted before the session
// middleware and the cross-site check, which guard cookie-borne requests and
// have nothing to guard here (a cross-site page cannot attach someone's
// bearer token). Errors are application/problem+json (RFC 9457).

const apiPrefix = "/api/v1"

// localAPIKey holds the request's API key.
const localAPIKey = "api_key"

// DefaultAPIRate is the default rate limit per API key.
var DefaultAPIRate = store.RatePolicy{Rate: 50, Burst: 100}

func isAPIPath(path string) bool {
	return path == apiPrefix || strings.HasPrefix(path, apiPrefix+"/")
}

func (s *Server) apiRoutes(app *fiber.App) {
	g := app.Group(apiPrefix)
	g.Get("/openapi.json", s.apiOpenAPI)
	g.Use(s.apiAuth, s.apiIdempotency)
	g.Get("/me", s.apiMe)
	s.apiContactRoutes(g)
	s.apiDealRoutes(g)
	s.apiImportRoutes(g)
	g.Get("/members", s.apiMembers)
	g.Get("/members/:id", s.apiMember)
	g.Get("/lost-reasons", s.apiLostReasons)
	g.Use(func(c *fiber.Ctx) error {
		return fiber.NewError(fiber.StatusNotFound, "There is no such API endpoint: see /api/v1/openapi.json.")
	})
}

func apiKey(c *fiber.Ctx) *store.APIKey {
	k, _ := c.Locals(localAPIKey).(*store.APIKey)
	return k
}

// apiAuth finds the key of the request, checks its scope and counts the
// request against the key's rate limit.
func (s *Server) apiAuth(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	auth := c.Get(fiber.HeaderAuthorization)
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="sherpa"`)
		return &apiProblem{Status: fiber.StatusUnauthorized, Code: "unauthenticated",
			Detail: "Send a personal API key as 'Authorization: Bearer KEY'; make one on your profile page."}
	}
	key, user, team, err := s.store.APIKeyUser(c.UserContext(), strings.TrimSpace(token))
	if errors.Is(err, store.ErrNotFound) {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="sherpa", error="invalid_token"`)
		return &apiProblem{Status: fiber.StatusUnauthorized, Code: "invalid_key",
			Detail: "This API key is unknown or was revoked, or its user left the team it was made in."}
	}
	if err != nil {
		return err
	}
	c.Locals(localAPIKey, key)
	c.Locals(localUser, user)
	c.Locals(localTeam, team)
	rate, err := s.takeRate(c.UserContext(), key.ID)
	if err != nil {
		return err
	}
	setRateHeaders(c, rate, s.apiRate())
	if !rate.Allowed {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(ceilSeconds(rate.RetryAfter)))
		return &apiProblem{Status: fiber.StatusTooManyRequests, Code: "rate_limited",
			Detail: "Too many requests with this key; wait for the time in Retry-After."}
	}
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
	default:
		if !key.CanWrite() {
			return &apiProblem{Status: fiber.StatusForbidden, Code: "read_only_key",
				Detail: "This API key is read-only; make a read-and-write key to change data."}
		}
	}
	return c.Next()
}

func (s *Server) apiRate() store.RatePolicy {
	if s.cfg.APIRate.Rate == 0 && s.cfg.APIRate.Burst == 0 {
		return DefaultAPIRate
	}
	return s.cfg.APIRate
}

// setRateHeaders writes the IETF draft's RateLimit fields: the limit (the
// burst a full bucket allows), what remains, and the seconds until full.
func setRateHeaders(c *fiber.Ctx, r store.RateResult, p store.RatePolicy) {
	c.Set("RateLimit-Limit", strconv.Itoa(r.Limit))
	c.Set("RateLimit-Remaining", strconv.Itoa(max(r.Remaining, 0)))
	c.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(r.Reset)))
	c.Set("RateLimit-Policy", strconv.Itoa(r.Limit)+";w="+strconv.Itoa(max(ceilSeconds(time.Duration(r.Limit)*time.Second/time.Duration(max(p.Rate, 1))), 1)))
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

// apiIdempotency makes a POST with an Idempotency-Key act once: the first
// request's answer is stored under the key (per user) and replayed to a
// retry with the same key and body. A different request under a used key
// is refused (422), and so is a retry while the first is still running
// (409). Server errors are not stored, so the retry acts.
func (s *Server) apiIdempotency(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	if c.Method() != fiber.MethodPost || key == "" {
		return c.Next()
	}
	if len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < '!' || r > '~' }) {
		return &apiProblem{Status: fiber.StatusBadRequest, Code: "invalid_idempotency_key",
			Detail: "An Idempotency-Key is 1 to 255 printable ASCII characters without spaces."}
	}
	if bigBody(c) {
		// Hashing it would read the whole streamed upload into memory.
		discardBody(c)
		return &apiProblem{Status: fiber.StatusBadRequest, Code: "idempotency_body_too_large",
			Detail: "An Idempotency-Key works with bodies up to 1 MB. Send a larger import file without one: an upload only stores the file, so a repeated one makes a second import that is never started."}
	}
	ctx, me := c.UserContext(), currentUser(c)
	h := sha256.New()
	h.Write([]byte(c.Method() + " " + c.Path() + "?" + string(c.Request().URI().QueryString()) + "\n"))
	h.Write(c.Body())
	hash := hex.EncodeToString(h.Sum(nil))
	claimed, prev, err := s.store.ClaimIdempotencyKey(ctx, me.ID, key, hash)
	if err != nil {
		return err
	}
	if !claimed {
		switch {
		case prev == nil || prev.Status == 0:
			return &apiProblem{Status: fiber.StatusConflict, Code: "idempotency_in_progress",
				Detail: "A request with this Idempotency-Key is still being answered; retry in a moment."}
		case prev.RequestHash != hash:
			return &apiProblem{Status: fiber.StatusUnprocessableEntity, Code: "idempotency_key_reused",
				Detail: "This Idempotency-Key was used for a different request; use a new key for a new request."}
		}
		c.Set("Idempotent-Replayed", "true")
		if prev.Location != "" {
			c.Set(fiber.HeaderLocation, prev.Location)
		}
		c.Set(fiber.HeaderContentType, contentTypeOf(prev.Status))
		return c.Status(prev.Status).SendString(prev.Body)
	}
	herr := c.Next()
	if herr != nil {
		if err := s.handleError(c, herr); err != nil {
			return err
		}
	}
	status := c.Response().StatusCode()
	if status >= 500 {
		return s.store.ReleaseIdempotencyKey(ctx, me.ID, key)
	}
	return s.store.FinishIdempotencyKey(ctx, me.ID, key, status, string(c.Response().Header.Peek(fiber.HeaderLocation)), string(c.Response().Body()))
}

func contentTypeOf(status int) string {
	if status >= 400 {
		return problemJSON
	}
	return fiber.MIMEApplicationJSON
}

const problemJSON = "application/problem+json"

// apiProblem is an RFC 9457 problem detail: type, title, status, detail,
// instance, plus our members: a machine-readable code, the field errors the
// forms would show, and for a version conflict the record as it is now.
type apiProblem struct {
	Type       string            `json:"type"`
	Title      string            `json:"title"`
	Status     int               `json:"status"`
	Detail     string            `json:"detail,omitempty"`
	Instance   string            `json:"instance,omitempty"`
	Code       string            `json:"code"`
	Errors     map[string]string `json:"errors,omitempty"`
	Current    any               `json:"current,omitempty"`
	ExistingID int64             `json:"existing_id,omitempty"`
	RequestID  string            `json:"request_id,omitempty"`
}

func (p *apiProblem) Error() string { return "api: " + p.Code + ": " + p.Detail }

// apiError answers an API request's error as problem+json; handleError
// hands every error of an /api/v1 path here.
func (s *Server) apiError(c *fiber.Ctx, err error) error {
	p := new(apiProblem)
	var fe *fiber.Error
	var sfe store.FieldErrors
	var dup *store.DuplicateError
	switch {
	case errors.As(err, &p):
	case errors.As(err, &fe):
		p = &apiProblem{Status: fe.Code, Detail: fe.Message, Code: codeOfStatus(fe.Code)}
		if fe.Message == http.StatusText(fe.Code) {
			p.Detail = ""
		}
		if fe.Code == fiber.StatusRequestEntityTooLarge {
			p.Detail = "The body is larger than 1 MB."
		}
	case errors.As(err, &dup):
		p = &apiProblem{Status: fiber.StatusUnprocessableEntity, Code: "duplicate", ExistingID: dup.ExistingID,
			Detail: "A contact with this email already exists.", Errors: map[string]string{"email": "A contact with this email already exists."}}
	case errors.As(err, &sfe):
		p = &apiProblem{Status: fiber.StatusUnprocessableEntity, Code: "invalid", Detail: "Some fields are not valid; see errors.", Errors: sfe}
	case errors.Is(err, store.ErrNotFound):
		p = &apiProblem{Status: fiber.StatusNotFound, Code: "not_found", Detail: "There is nothing here, or it belongs to another team."}
	case errors.Is(err, store.ErrClosed):
		p = &apiProblem{Status: fiber.StatusConflict, Code: "deal_closed", Detail: sentence(store.ErrClosed)}
	case errors.Is(err, store.ErrNotClosed):
		p = &apiProblem{Status: fiber.StatusConflict, Code: "deal_open", Detail: "This deal is open: only closed deals can be reopened."}
	case errors.Is(err, store.ErrNotAllowed):
		p = &apiProblem{Status: fiber.StatusForbidden, Code: "forbidden", Detail: "Your role does not allow this."}
	case errors.Is(err, store.ErrConflict):
		p = &apiProblem{Status: fiber.StatusConflict, Code: "version_conflict", Detail: "Someone else changed this record first."}
	case store.IsUnavailable(err):
		c.Set(fiber.HeaderRetryAfter, outageRetryAfter)
		s.outage.note(s.log, err, requestID(c), c.Method()+" "+c.Path())
		p = &apiProblem{Status: fiber.StatusServiceUnavailable, Code: "unavailable",
			Detail: "Sherpa cannot reach its database right now, so nothing was saved. Try again in a moment."}
	default:
		p = &apiProblem{Status: fiber.StatusInternalServerError, Code: "internal",
			Detail: "Sherpa could not finish this request; try again. Quote the request id when reporting it.", RequestID: requestID(c)}
		s.log.Error().Err(err).Str("request_id", p.RequestID).Str("method", c.Method()).Str("path", c.Path()).Msg("request failed")
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Code == "" {
		p.Code = codeOfStatus(p.Status)
	}
	p.Instance = c.Path()
	c.Response().ResetBody()
	c.Response().Header.Del(fiber.HeaderLocation)
	b, _ := json.Marshal(p)
	c.Set(fiber.HeaderContentType, problemJSON)
	return c.Status(p.Status).Send(b)
}

func codeOfStatus(status int) string {
	switch status {
	case fiber.StatusBadRequest:
		return "bad_request"
	case fiber.StatusNotFound:
		return "not_found"
	case fiber.StatusMethodNotAllowed:
		return "method_not_allowed"
	case fiber.StatusRequestEntityTooLarge:
		return "too_large"
	case fiber.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case fiber.StatusForbidden:
		return "forbidden"
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}

// apiJSON answers v as JSON.
func apiJSON(c *fiber.Ctx, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(b)
}

// apiCreated answers a new record with 201 and its Location.
func apiCreated(c *fiber.Ctx, location string, v any) error {
	c.Set(fiber.HeaderLocation, location)
	return apiJSON(c, fiber.StatusCreated, v)
}

// listJSON is a page of a list: the rows and the cursors of the pages
// around it (null at the ends).
type listJSON[T any] struct {
	Data []T    `json:"data"`
	Next string `json:"next,omitempty"`
	Prev string `json:"prev,omitempty"`
}

// jsonBody is a request body decoded as a JSON object, read field by field
// so that a wrong type is a message at its field, like a form's.
type jsonBody struct {
	fields map[string]json.RawMessage
	used   map[string]bool
	errs   store.FieldErrors
}

// readJSON decodes the request body as one JSON object.
func readJSON(c *fiber.Ctx) (*jsonBody, error) {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	if ct != fiber.MIMEApplicationJSON && !strings.HasSuffix(ct, "+json") {
		return nil, &apiProblem{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Detail: "Send the body as JSON, with Content-Type: application/json."}
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, &apiProblem{Status: fiber.StatusBadRequest, Code: "invalid_json",
			Detail: "The body must be one JSON object, like {\"name\": \"Ada\"}."}
	}
	if dec.More() {
		return nil, &apiProblem{Status: fiber.StatusBadRequest, Code: "invalid_json", Detail: "The body must hold one JSON object only."}
	}
	return &jsonBody{fields: fields, used: map[string]bool{}, errs: store.FieldErrors{}}, nil
}

func (b *jsonBody) has(name string) bool {
	_, ok := b.fields[name]
	return ok
}

// str reads a string field; null reads as "".
func (b *jsonBody) str(name string, into *string) {
	b.used[name] = true
	raw, ok := b.fields[name]
	if !ok || string(raw) == "null" {
		if ok {
			*into = ""
		}
		return
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		b.errs[name] = "Must be a string."
		return
	}
	*into = v
}

// id reads an optional id field: a positive integer, or null/0 for none.
func (b *jsonBody) id(name string, into *int64) {
	b.used[name] = true
	raw, ok := b.fields[name]
	if !ok {
		return
	}
	if string(raw) == "null" {
		*into = 0
		return
	}
	var v int64
	if err := json.Unmarshal(raw, &v); err != nil || v < 0 {
		b.errs[name] = "Must be an id (a positive whole number) or null."
		return
	}
	*into = v
}

// integer reads a whole-number field.
func (b *jsonBody) integer(name string, into *int) bool {
	b.used[name] = true
	raw, ok := b.fields[name]
	if !ok {
		return false
	}
	var v int
	if err := json.Unmarshal(raw, &v); err != nil {
		b.errs[name] = "Must be a whole number."
		return false
	}
	*into = v
	return true
}

// amount reads money: a decimal string ("1234.50", as the forms take it)
// or a JSON number; null reads as "".
func (b *jsonBody) amount(name string, into *string) {
	b.used[name] = true
	raw, ok := b.fields[name]
	if !ok {
		return
	}
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "null":
		*into = ""
	case strings.HasPrefix(s, `"`):
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			b.errs[name] = "Must be an amount, like \"1234.50\"."
			return
		}
		*into = v
	default:
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			b.errs[name] = "Must be an amount, like \"1234.50\"."
			return
		}
		*into = n.String()
	}
}

// done reports the field errors of wrong types and of unknown fields.
func (b *jsonBody) done() error {
	for k := range b.fields {
		if !b.used[k] {
			b.errs[k] = "Unknown field."
		}
	}
	if len(b.errs) > 0 {
		return b.errs
	}
	return nil
}

// apiListQuery reads the list parameters the tables take: view, q, sort,
// dir, cursor, and limit (1–200). Unlike the tables, which fall back to
// defaults for a hand-edited URL, the API says what is wrong.
type apiListQuery struct {
	View, Q, Sort, Cursor string
	Desc                  bool
	Limit                 int
}

func apiList(c *fiber.Ctx, views, sorts []string) (apiListQuery, error) {
	errs := store.FieldErrors{}
	q := apiListQuery{View: c.Query("view", store.ViewAll), Q: store.CleanSearch(c.Query("q"), store.MaxSearchLen),
		Sort: c.Query("sort"), Cursor: c.Query("cursor"), Limit: store.PageSize}
	if !contains(views, q.View) {
		errs["view"] = "Choose one of: " + strings.Join(views, ", ") + "."
	}
	if q.Sort != "" && !contains(sorts, q.Sort) {
		errs["sort"] = "Choose one of: " + strings.Join(sorts, ", ") + "."
	}
	switch c.Query("dir") {
	case "", "asc":
	case "desc":
		q.Desc = q.Sort != ""
	default:
		errs["dir"] = "Choose asc or desc."
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			errs["limit"] = "Choose a whole number from 1 to 200."
		}
		q.Limit = n
	}
	if len(q.Cursor) > 512 {
		errs["cursor"] = "This cursor is not one Sherpa made."
	}
	if len(errs) > 0 {
		return q, &apiProblem{Status: fiber.StatusBadRequest, Code: "invalid_query", Detail: "Some query parameters are not valid; see errors.", Errors: errs}
	}
	return q, nil
}

func badCursor() error {
	return &apiProblem{Status: fiber.StatusBadRequest, Code: "invalid_query", Detail: "The cursor does not belong to this list's sort and direction.",
		Errors: map[string]string{"cursor": "Use the next or prev value of a page of the same query."}}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// apiID reads a record id from the path: a malformed one is a 404, as in
// the pages.
func apiID(c *fiber.Ctx, name string) (int64, error) {
	id, err := pathID(c, name)
	if err != nil {
		return 0, store.ErrNotFound
	}
	return id, nil
}

type meJSON struct {
	User store.MemberJSON `json:"user"`
	Team teamJSON         `json:"team"`
	Key  keyJSON          `json:"key"`
}

type teamJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	TimeZone string `json:"time_zone"`
}

type keyJSON struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Scope string `json:"scope"`
}

func (s *Server) apiMe(c *fiber.Ctx) error {
	u, t, k := currentUser(c), currentTeam(c), apiKey(c)
	return apiJSON(c, fiber.StatusOK, meJSON{User: u.MemberJSON(), Team: teamJSON{ID: t.ID, Name: t.Name, Currency: t.Currency, TimeZone: t.TimeZone},
		Key: keyJSON{ID: k.ID, Name: k.Name, Scope: k.Scope}})
}

func (s *Server) apiMembers(c *fiber.Ctx) error {
	members, err := s.store.TeamMembers(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	out := make([]store.MemberJSON, len(members))
	for i := range members {
		out[i] = members[i].MemberJSON()
	}
	return apiJSON(c, fiber.StatusOK, listJSON[store.MemberJSON]{Data: out})
}

func (s *Server) apiMember(c *fiber.Ctx) error {
	id, err := apiID(c, "id")
	if err != nil {
		return err
	}
	m, err := s.store.TeamMember(c.UserContext(), currentTeam(c).ID, id)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, m.MemberJSON())
}

func (s *Server) apiLostReasons(c *fiber.Ctx) error {
	reasons, err := s.store.LostReasons(c.UserContext(), currentTeam(c).ID)
	if err != nil {
		return err
	}
	return apiJSON(c, fiber.StatusOK, listJSON[string]{Data: reasons})
}

// WebhookConfig is what the team page's webhook forms need to know of the
// sender.
type WebhookConfig struct {
	// AllowPrivate lets endpoints point at loopback and private addresses
	// (SHERPA_WEBHOOK_ALLOW_PRIVATE).
	AllowPrivate bool
}
