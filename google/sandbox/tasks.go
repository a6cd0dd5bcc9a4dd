package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"google.golang.org/api/tasks/v1"
)

type taskList struct {
	list  *tasks.TaskList
	items []*tasks.Task // newest first, as Google inserts at the top
}

// googleTime formats t the way the Tasks API does (RFC 3339, milliseconds, UTC).
func googleTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// lookupList answers the list for the {tasklist} path segment ("@default" is the
// account's default list, created on first use). s.mu held.
func (a *account) lookupList(id string) *taskList {
	if id == "@default" {
		for _, lid := range a.listOrder {
			if a.lists[lid].list.Title == "My Tasks" {
				return a.lists[lid]
			}
		}
		return a.addList("My Tasks")
	}
	return a.lists[id]
}

func (a *account) addList(title string) *taskList {
	id := randomToken(12)
	l := &taskList{list: &tasks.TaskList{
		Kind:    "tasks#taskList",
		Id:      id,
		Title:   title,
		Updated: googleTime(time.Now()),
		Etag:    `"` + randomHex(6) + `"`,
	}}
	a.lists[id] = l
	a.listOrder = append(a.listOrder, id)
	return l
}

func (l *taskList) find(id string) *tasks.Task {
	for _, t := range l.items {
		if t.Id == id {
			return t
		}
	}
	return nil
}

func (s *Server) taskListsList(w http.ResponseWriter, r *http.Request, a *account) {
	out := &tasks.TaskLists{Kind: "tasks#taskLists"}
	for _, id := range a.listOrder {
		out.Items = append(out.Items, a.lists[id].list)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) taskListsInsert(w http.ResponseWriter, r *http.Request, a *account) {
	var in tasks.TaskList
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badRequest(w, "Invalid JSON payload received.")
		return
	}
	if strings.TrimSpace(in.Title) == "" || len(in.Title) > 1024 {
		badRequest(w, "Invalid task list title.")
		return
	}
	writeJSON(w, http.StatusOK, a.addList(in.Title).list)
}

func (s *Server) taskListsGet(w http.ResponseWriter, r *http.Request, a *account) {
	l := a.lookupList(r.PathValue("tasklist"))
	if l == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, l.list)
}

func (s *Server) taskListsDelete(w http.ResponseWriter, r *http.Request, a *account) {
	if !a.removeList(r.PathValue("tasklist")) {
		notFound(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *account) removeList(id string) bool {
	if a.lists[id] == nil {
		return false
	}
	delete(a.lists, id)
	for i, lid := range a.listOrder {
		if lid == id {
			a.listOrder = append(a.listOrder[:i], a.listOrder[i+1:]...)
			break
		}
	}
	return true
}

// DeleteTaskList removes a list as if the user deleted it in Google Tasks, so
// tests can check that Sherpa recreates it.
func (s *Server) DeleteTaskList(userEmail, listID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.account(userEmail).removeList(listID)
}

// tasksList is tasks.list with showCompleted (default true), showHidden and
// showDeleted (default false), dueMin/dueMax, maxResults (default 20, at most
// 100) and pageToken.
func (s *Server) tasksList(w http.ResponseWriter, r *http.Request, a *account) {
	l := a.lookupList(r.PathValue("tasklist"))
	if l == nil {
		notFound(w)
		return
	}
	size, err := intParam(r, "maxResults", 20, 100)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	showCompleted := boolParam(r, "showCompleted", true)
	showHidden := boolParam(r, "showHidden", false)
	showDeleted := boolParam(r, "showDeleted", false)
	var dueMin, dueMax time.Time
	for name, dst := range map[string]*time.Time{"dueMin": &dueMin, "dueMax": &dueMax} {
		if v := r.URL.Query().Get(name); v != "" {
			if *dst, err = time.Parse(time.RFC3339, v); err != nil {
				badRequest(w, "Invalid value for: "+name)
				return
			}
		}
	}
	var shown []*tasks.Task
	for _, t := range l.items {
		due, _ := time.Parse(time.RFC3339, t.Due)
		switch {
		case t.Status == "completed" && !showCompleted,
			t.Hidden && !showHidden,
			t.Deleted && !showDeleted,
			!dueMin.IsZero() && (t.Due == "" || due.Before(dueMin)),
			!dueMax.IsZero() && (t.Due == "" || !due.Before(dueMax)):
			continue
		}
		shown = append(shown, t)
	}
	start, end, next, err := page(len(shown), r.URL.Query().Get("pageToken"), size)
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, &tasks.Tasks{
		Kind:          "tasks#tasks",
		Etag:          `"` + randomHex(6) + `"`,
		Items:         shown[start:end],
		NextPageToken: next,
	})
}

// normalizeDue keeps only the date of an RFC 3339 due time, as Google does.
func normalizeDue(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return "", false
	}
	y, m, d := t.Date()
	return googleTime(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)), true
}

func setStatus(t *tasks.Task, status string) bool {
	switch status {
	case "completed":
		if t.Status != "completed" || t.Completed == nil {
			now := googleTime(time.Now())
			t.Completed = &now
		}
	case "needsAction":
		t.Completed = nil
		t.Hidden = false
	default:
		return false
	}
	t.Status = status
	return true
}

func (s *Server) tasksInsert(w http.ResponseWriter, r *http.Request, a *account) {
	l := a.lookupList(r.PathValue("tasklist"))
	if l == nil {
		notFound(w)
		return
	}
	var in tasks.Task
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badRequest(w, "Invalid JSON payload received.")
		return
	}
	due, ok := normalizeDue(in.Due)
	if !ok {
		badRequest(w, "Invalid value for: Invalid format: \""+in.Due+"\"")
		return
	}
	if len(in.Title) > 1024 {
		badRequest(w, "Invalid task title.")
		return
	}
	t := &tasks.Task{
		Kind:     "tasks#task",
		Id:       randomToken(12),
		Etag:     `"` + randomHex(6) + `"`,
		Title:    in.Title,
		Notes:    in.Notes,
		Due:      due,
		Updated:  googleTime(time.Now()),
		SelfLink: "https://www.googleapis.com/tasks/v1/lists/" + l.list.Id + "/tasks/",
		Status:   "needsAction",
	}
	t.SelfLink += t.Id
	if in.Status != "" && !setStatus(t, in.Status) {
		badRequest(w, "Invalid value for: status")
		return
	}
	l.items = append([]*tasks.Task{t}, l.items...)
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) task(w http.ResponseWriter, r *http.Request, a *account) (*taskList, *tasks.Task) {
	l := a.lookupList(r.PathValue("tasklist"))
	if l == nil {
		notFound(w)
		return nil, nil
	}
	t := l.find(r.PathValue("task"))
	if t == nil {
		notFound(w)
		return nil, nil
	}
	return l, t
}

func (s *Server) tasksGet(w http.ResponseWriter, r *http.Request, a *account) {
	if _, t := s.task(w, r, a); t != nil {
		writeJSON(w, http.StatusOK, t)
	}
}

// tasksPatch changes the fields present in the body (title, notes, due, status).
func (s *Server) tasksPatch(w http.ResponseWriter, r *http.Request, a *account) {
	_, t := s.task(w, r, a)
	if t == nil {
		return
	}
	var in map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badRequest(w, "Invalid JSON payload received.")
		return
	}
	s.applyTask(w, t, in)
}

// tasksUpdate replaces title, notes, due and status.
func (s *Server) tasksUpdate(w http.ResponseWriter, r *http.Request, a *account) {
	_, t := s.task(w, r, a)
	if t == nil {
		return
	}
	var in map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		badRequest(w, "Invalid JSON payload received.")
		return
	}
	for _, k := range []string{"title", "notes", "due"} {
		if _, ok := in[k]; !ok {
			in[k] = json.RawMessage(`""`)
		}
	}
	if _, ok := in["status"]; !ok {
		in["status"] = json.RawMessage(`"needsAction"`)
	}
	s.applyTask(w, t, in)
}

func (s *Server) applyTask(w http.ResponseWriter, t *tasks.Task, in map[string]json.RawMessage) {
	str := func(k string) (string, bool) {
		raw, ok := in[k]
		if !ok {
			return "", false
		}
		var v string
		_ = json.Unmarshal(raw, &v) // null and wrong types clear the field
		return v, true
	}
	next := *t
	if v, ok := str("title"); ok {
		next.Title = v
	}
	if v, ok := str("notes"); ok {
		next.Notes = v
	}
	if v, ok := str("due"); ok {
		due, valid := normalizeDue(v)
		if !valid {
			badRequest(w, "Invalid value for: Invalid format: \""+v+"\"")
			return
		}
		next.Due = due
	}
	if v, ok := str("status"); ok && !setStatus(&next, v) {
		badRequest(w, "Invalid value for: status")
		return
	}
	next.Updated = googleTime(time.Now())
	next.Etag = `"` + randomHex(6) + `"`
	*t = next
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) tasksDelete(w http.ResponseWriter, r *http.Request, a *account) {
	if _, t := s.task(w, r, a); t != nil {
		t.Deleted = true
		w.WriteHeader(http.StatusNoContent)
	}
}

// tasksClear hides the list's completed tasks, as "Clear completed" does.
func (s *Server) tasksClear(w http.ResponseWriter, r *http.Request, a *account) {
	l := a.lookupList(r.PathValue("tasklist"))
	if l == nil {
		notFound(w)
		return
	}
	for _, t := range l.items {
		if t.Status == "completed" {
			t.Hidden = true
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
