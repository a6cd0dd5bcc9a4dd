package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/mail"
	"sort"
	"strings"
	"time"

	"google.golang.org/api/calendar/v3"
)

// calendarOf checks the {calendarId} path segment: "primary" or the account's
// address are the only calendars an account has here.
func calendarOf(w http.ResponseWriter, r *http.Request, a *account) bool {
	id := r.PathValue("calendarId")
	if id == "primary" || strings.EqualFold(id, a.email) {
		return true
	}
	notFound(w)
	return false
}

// eventInstant reads a timed event's instant or an all-day event's date.
func eventInstant(et *calendar.EventDateTime) (time.Time, bool) {
	if et == nil {
		return time.Time{}, false
	}
	if et.DateTime != "" {
		t, err := time.Parse(time.RFC3339, et.DateTime)
		return t, err == nil
	}
	t, err := time.Parse(time.DateOnly, et.Date)
	return t, err == nil
}

// MeetCode is the Meet code the fake gives a conference request id: three,
// four and three letters, always the same for the same id.
func MeetCode(requestID string) string {
	sum := sha256.Sum256([]byte(requestID))
	letters := make([]byte, 10)
	for i := range letters {
		letters[i] = 'a' + sum[i]%26
	}
	return string(letters[:3]) + "-" + string(letters[3:7]) + "-" + string(letters[7:])
}

// eventsInsert is events.insert. With conferenceDataVersion=1 and a
// createRequest of type hangoutsMeet it creates a Meet conference; the same
// requestId again reuses that conference but makes a new event, as Google
// does, so only a lookup by a private extended property avoids a duplicate.
func (s *Server) eventsInsert(w http.ResponseWriter, r *http.Request, a *account) {
	if !calendarOf(w, r, a) {
		return
	}
	q := r.URL.Query()
	switch q.Get("sendUpdates") {
	case "", "all", "externalOnly", "none":
	default:
		badRequest(w, "Invalid value for: sendUpdates")
		return
	}
	cdv := q.Get("conferenceDataVersion")
	if cdv != "" && cdv != "0" && cdv != "1" {
		badRequest(w, "Invalid conference data version.")
		return
	}
	var ev calendar.Event
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		badRequest(w, "Invalid JSON payload received.")
		return
	}
	start, okStart := eventInstant(ev.Start)
	end, okEnd := eventInstant(ev.End)
	switch {
	case !okStart:
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "required", "Missing start time.")
		return
	case !okEnd:
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "required", "Missing end time.")
		return
	case !end.After(start):
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "timeRangeEmpty", "The specified time range is empty.")
		return
	}
	for _, at := range ev.Attendees {
		if at == nil {
			badRequest(w, "Invalid attendee.")
			return
		}
		if _, err := mail.ParseAddress(at.Email); err != nil {
			badRequest(w, "Invalid attendee email.")
			return
		}
	}

	var conference *calendar.ConferenceData
	if cdv == "1" && ev.ConferenceData != nil && ev.ConferenceData.CreateRequest != nil {
		req := ev.ConferenceData.CreateRequest
		if req.RequestId == "" {
			badRequest(w, "Invalid conference request id.")
			return
		}
		if req.ConferenceSolutionKey == nil || req.ConferenceSolutionKey.Type != "hangoutsMeet" {
			badRequest(w, "Invalid conference type value.")
			return
		}
		// As Google does, a requestId seen before answers the conference it
		// made (no second one); the event itself is not deduplicated.
		conference = a.conferences[req.RequestId]
		if conference == nil {
			code := MeetCode(req.RequestId)
			conference = &calendar.ConferenceData{
				ConferenceId: code,
				CreateRequest: &calendar.CreateConferenceRequest{
					RequestId:             req.RequestId,
					ConferenceSolutionKey: &calendar.ConferenceSolutionKey{Type: "hangoutsMeet"},
					Status:                &calendar.ConferenceRequestStatus{StatusCode: "success"},
				},
				ConferenceSolution: &calendar.ConferenceSolution{
					Key:  &calendar.ConferenceSolutionKey{Type: "hangoutsMeet"},
					Name: "Google Meet",
				},
				EntryPoints: []*calendar.EntryPoint{{
					EntryPointType: "video",
					Uri:            "https://meet.google.com/" + code,
					Label:          "meet.google.com/" + code,
				}},
			}
			a.conferences[req.RequestId] = conference
		}
		ev.HangoutLink = conference.EntryPoints[0].Uri
	} else {
		ev.HangoutLink = "" // Google ignores conference data without version 1
	}
	ev.ConferenceData = conference

	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	ev.Id = randomHex(13)
	ev.Kind = "calendar#event"
	ev.Etag = `"` + randomHex(8) + `"`
	ev.Status = "confirmed"
	ev.Created, ev.Updated = now, now
	ev.ICalUID = ev.Id + "@google.com"
	ev.HtmlLink = "https://www.google.com/calendar/event?eid=" +
		base64.RawURLEncoding.EncodeToString([]byte(ev.Id+" "+a.email))
	ev.Creator = &calendar.EventCreator{Email: a.email, Self: true}
	ev.Organizer = &calendar.EventOrganizer{Email: a.email, Self: true}
	ev.EventType = "default"
	for _, at := range ev.Attendees {
		if at.ResponseStatus == "" {
			at.ResponseStatus = "needsAction"
		}
		if strings.EqualFold(at.Email, a.email) {
			at.Self, at.Organizer, at.ResponseStatus = true, true, "accepted"
		}
	}
	a.events = append(a.events, &ev)
	writeJSON(w, http.StatusOK, &ev)
}

func (a *account) findEvent(id string) *calendar.Event {
	for _, ev := range a.events {
		if ev.Id == id {
			return ev
		}
	}
	return nil
}

func (s *Server) eventsGet(w http.ResponseWriter, r *http.Request, a *account) {
	if !calendarOf(w, r, a) {
		return
	}
	ev := a.findEvent(r.PathValue("eventId"))
	if ev == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}

func (s *Server) eventsDelete(w http.ResponseWriter, r *http.Request, a *account) {
	if !calendarOf(w, r, a) {
		return
	}
	for i, ev := range a.events {
		if ev.Id == r.PathValue("eventId") {
			a.events = append(a.events[:i], a.events[i+1:]...)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	apiError(w, http.StatusGone, "GONE", "deleted", "Resource has been deleted")
}

// eventsList is events.list with timeMin (exclusive bound on the end), timeMax
// (exclusive bound on the start), q (free text: title, description, location,
// attendees, organizer), privateExtendedProperty (name=value, each given must
// match), singleEvents, orderBy (startTime needs singleEvents), maxResults
// (default 250) and pageToken.
func (s *Server) eventsList(w http.ResponseWriter, r *http.Request, a *account) {
	if !calendarOf(w, r, a) {
		return
	}
	q := r.URL.Query()
	orderBy := q.Get("orderBy")
	switch {
	case orderBy == "startTime" && q.Get("singleEvents") != "true":
		apiError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "badRequest",
			"The requested ordering is not available for the particular query.")
		return
	case orderBy != "" && orderBy != "startTime" && orderBy != "updated":
		badRequest(w, "Invalid value for: orderBy")
		return
	}
	var timeMin, timeMax time.Time
	for name, dst := range map[string]*time.Time{"timeMin": &timeMin, "timeMax": &timeMax} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				badRequest(w, "Bad Request")
				return
			}
			*dst = t
		}
	}
	size, err := intParam(r, "maxResults", 250, 2500)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	text := strings.ToLower(q.Get("q"))
	private := map[string]string{}
	for _, p := range q["privateExtendedProperty"] {
		name, value, ok := strings.Cut(p, "=")
		if !ok {
			badRequest(w, "Invalid privateExtendedProperty: "+p)
			return
		}
		private[name] = value
	}
	var shown []*calendar.Event
	for _, ev := range a.events {
		start, _ := eventInstant(ev.Start)
		end, _ := eventInstant(ev.End)
		if (!timeMin.IsZero() && !end.After(timeMin)) || (!timeMax.IsZero() && !start.Before(timeMax)) {
			continue
		}
		if text != "" && !strings.Contains(eventText(ev), text) || !hasPrivate(ev, private) {
			continue
		}
		shown = append(shown, ev)
	}
	switch orderBy {
	case "startTime":
		sort.SliceStable(shown, func(i, j int) bool {
			si, _ := eventInstant(shown[i].Start)
			sj, _ := eventInstant(shown[j].Start)
			return si.Before(sj)
		})
	case "updated":
		sort.SliceStable(shown, func(i, j int) bool { return shown[i].Updated < shown[j].Updated })
	}
	start, end, next, err := page(len(shown), q.Get("pageToken"), size)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, &calendar.Events{
		Kind:          "calendar#events",
		Summary:       a.email,
		TimeZone:      "UTC",
		AccessRole:    "owner",
		Items:         shown[start:end],
		NextPageToken: next,
	})
}

func eventText(ev *calendar.Event) string {
	parts := []string{ev.Summary, ev.Description, ev.Location}
	for _, at := range ev.Attendees {
		parts = append(parts, at.Email, at.DisplayName)
	}
	if ev.Organizer != nil {
		parts = append(parts, ev.Organizer.Email)
	}
	return strings.ToLower(strings.Join(parts, "\n"))
}

// hasPrivate reports whether the event has every private extended property.
func hasPrivate(ev *calendar.Event, want map[string]string) bool {
	for name, value := range want {
		if ev.ExtendedProperties == nil || ev.ExtendedProperties.Private[name] != value {
			return false
		}
	}
	return true
}
