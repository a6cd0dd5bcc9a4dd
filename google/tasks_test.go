package google

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/api/tasks/v1"

	"sherpa/google/sandbox"
)

func TestEnsureTaskListCreatesOnceAndRecreatesWhenDeleted(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()

	id, err := cl.EnsureTaskList(ctx, "", "Sherpa: Bob")
	if err != nil || id == "" {
		t.Fatalf("first use: %q, %v", id, err)
	}
	var created tasks.TaskList
	if err := e.onlyRequest(t, "POST", "/users/@me/lists").DecodeJSON(&created); err != nil || created.Title != "Sherpa: Bob" {
		t.Fatalf("created list %+v (%v)", created, err)
	}

	again, err := cl.EnsureTaskList(ctx, id, "Sherpa: Bob")
	if err != nil || again != id {
		t.Fatalf("existing list: %q, %v; want %q", again, err, id)
	}
	if n := len(e.fake.RequestsTo("POST", "/users/@me/lists")); n != 1 {
		t.Fatalf("an existing list was created again (%d inserts)", n)
	}

	if !e.fake.DeleteTaskList(userEmail, id) {
		t.Fatal("fake did not know the list")
	}
	recreated, err := cl.EnsureTaskList(ctx, id, "Sherpa: Bob")
	if err != nil || recreated == "" || recreated == id {
		t.Fatalf("deleted list: %q, %v; want a new id", recreated, err)
	}
	if got, err := cl.EnsureTaskList(ctx, recreated, "Sherpa: Bob"); err != nil || got != recreated {
		t.Fatalf("recreated list not found again: %q, %v", got, err)
	}
}

func TestAddTaskSendsTheDueDateAtMidnightUTC(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()
	list, err := cl.EnsureTaskList(ctx, "", "Sherpa: Bob")
	if err != nil {
		t.Fatal(err)
	}
	// 23:30 on 5 March in UTC-5 is already 6 March in UTC; the date meant is the 5th.
	due := time.Date(2026, 3, 5, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600))
	task, err := cl.AddTask(ctx, list, "Send the contract", due, "")
	if err != nil {
		t.Fatal(err)
	}
	var sent tasks.Task
	if err := e.onlyRequest(t, "POST", "/lists/"+list+"/tasks").DecodeJSON(&sent); err != nil {
		t.Fatal(err)
	}
	if sent.Due != "2026-03-05T00:00:00Z" || sent.Title != "Send the contract" {
		t.Errorf("sent task %+v, want due 2026-03-05T00:00:00Z", sent)
	}
	want := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	if task.ID == "" || !task.Due.Equal(want) || task.Completed || task.Title != "Send the contract" {
		t.Errorf("task %+v", task)
	}

	undated, err := cl.AddTask(ctx, list, "Someday", time.Time{}, "")
	if err != nil || !undated.Due.IsZero() {
		t.Errorf("task without due date: %+v, %v", undated, err)
	}
	if _, err := cl.AddTask(ctx, list, "  ", due, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("blank title: %v, want ErrInvalid", err)
	}
}

func TestCompleteTaskMarksItCompletedInGoogle(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()
	list, _ := cl.EnsureTaskList(ctx, "", "Sherpa: Bob")
	task, err := cl.AddTask(ctx, list, "Call back", time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	done, err := cl.CompleteTask(ctx, list, task.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !done.Completed || done.CompletedAt.IsZero() || done.ID != task.ID {
		t.Errorf("completed task %+v", done)
	}
	var patch map[string]any
	if err := e.onlyRequest(t, "PATCH", "/tasks/"+task.ID).DecodeJSON(&patch); err != nil || patch["status"] != "completed" {
		t.Errorf("patch body %v (%v), want status completed", patch, err)
	}
	if _, err := cl.CompleteTask(ctx, list, "no-such-task"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown task: %v, want ErrNotFound", err)
	}
}

func TestListTasksIncludesCompletedAndHiddenTasks(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()
	list, _ := cl.EnsureTaskList(ctx, "", "Sherpa: Bob")
	open, _ := cl.AddTask(ctx, list, "open", time.Now(), "")
	doneA, _ := cl.AddTask(ctx, list, "done and cleared", time.Now(), "")
	doneB, _ := cl.AddTask(ctx, list, "done", time.Now(), "")
	for _, id := range []string{doneA.ID, doneB.ID} {
		if _, err := cl.CompleteTask(ctx, list, id); err != nil {
			t.Fatal(err)
		}
	}
	// "Clear completed" in Google Tasks hides completed tasks from default listings.
	if err := cl.tasks.Tasks.Clear(list).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CompleteTask(ctx, list, doneB.ID); err != nil {
		t.Fatal(err)
	}

	got, err := cl.ListTasks(ctx, list)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Task{}
	for _, task := range got {
		byID[task.ID] = task
	}
	if len(got) != 3 || byID[open.ID].Completed || !byID[doneA.ID].Completed || !byID[doneB.ID].Completed ||
		byID[doneA.ID].CompletedAt.IsZero() {
		t.Fatalf("tasks %+v: want all three, two completed", got)
	}
	q := e.onlyRequest(t, "GET", "/lists/"+list+"/tasks").Query
	if q.Get("showCompleted") != "true" || q.Get("showHidden") != "true" {
		t.Errorf("list query %v: want showCompleted and showHidden", q)
	}
}

func TestListTasksReadsEveryPage(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()
	list, _ := cl.EnsureTaskList(ctx, "", "Sherpa: Bob")
	const n = 105 // more than the 100 a page can hold
	for i := range n {
		if _, err := cl.AddTask(ctx, list, fmt.Sprint("task ", i), time.Time{}, ""); err != nil {
			t.Fatal(err)
		}
	}
	got, err := cl.ListTasks(ctx, list)
	if err != nil || len(got) != n {
		t.Fatalf("%d tasks, %v; want %d", len(got), err, n)
	}
	if pages := len(e.fake.RequestsTo("GET", "/lists/"+list+"/tasks")); pages != 2 {
		t.Errorf("%d list requests, want 2 pages", pages)
	}
}

func TestTasksOfADeletedListAreNotFound(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	cl := e.client(t, userEmail)
	ctx := context.Background()
	list, _ := cl.EnsureTaskList(ctx, "", "Sherpa: Bob")
	e.fake.DeleteTaskList(userEmail, list)
	if _, err := cl.AddTask(ctx, list, "x", time.Time{}, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("AddTask: %v, want ErrNotFound", err)
	}
	if _, err := cl.ListTasks(ctx, list); !errors.Is(err, ErrNotFound) {
		t.Errorf("ListTasks: %v, want ErrNotFound", err)
	}
}
