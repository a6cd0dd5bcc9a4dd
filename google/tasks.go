package google

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/api/tasks/v1"
)

// Task is one Google Task. Due is a date (midnight UTC, zero if none): Google
// Tasks keeps no time of day.
type Task struct {
	ID          string
	Title       string
	Due         time.Time
	Completed   bool
	CompletedAt time.Time
	// Earlier is true when AddTask found the task already there (an earlier
	// try went through) and added nothing.
	Earlier bool
}

// taskNote is what a task's notes carry of the form that added it.
func taskNote(token string) string { return "Added from Sherpa (ref: " + token + ")" }

// EnsureTaskList answers a task list to use: listID itself if it still exists,
// otherwise (no id yet, or deleted in Google) a new list called title. The caller
// stores the answer when it differs from listID.
func (cl *Client) EnsureTaskList(ctx context.Context, listID, title string) (string, error) {
	ctx, cancel := cl.call(ctx)
	defer cancel()
	if listID != "" {
		_, err := cl.tasks.Tasklists.Get(listID).Context(ctx).Do()
		err = classify(err)
		switch {
		case err == nil:
			return listID, nil
		case !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalid):
			// ErrInvalid: Google answers 400 for an id that cannot exist.
			return "", err
		}
	}
	title = strings.TrimSpace(title)
	if title == "" {
		title = "Sherpa"
	}
	list, err := cl.tasks.Tasklists.Insert(&tasks.TaskList{Title: title}).Context(ctx).Do()
	if err != nil {
		return "", classify(err)
	}
	return list.Id, nil
}

// AddTask adds a task to the list, due on due's calendar date (in due's own
// location); a zero due means no due date. A token tags the task (in its
// notes, as "ref: token"): when the list already has a task with it, that
// task is answered and none is added, so a retry after a timeout adds one.
func (cl *Client) AddTask(ctx context.Context, listID, title string, due time.Time, token string) (Task, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return Task{}, fmt.Errorf("%w: task title is empty", ErrInvalid)
	}
	t := &tasks.Task{Title: title}
	if !due.IsZero() {
		t.Due = dueDate(due).Format(time.RFC3339)
	}
	ctx, cancel := cl.call(ctx)
	defer cancel()
	if token = oneLine(token); token != "" {
		t.Notes = taskNote(token)
		earlier, err := cl.listTasks(ctx, listID, func(t *tasks.Task) bool { return strings.Contains(t.Notes, taskNote(token)) })
		if err != nil {
			return Task{}, err
		}
		if len(earlier) > 0 {
			earlier[0].Earlier = true
			return earlier[0], nil
		}
	}
	created, err := cl.tasks.Tasks.Insert(listID, t).Context(ctx).Do()
	if err != nil {
		return Task{}, classify(err)
	}
	return taskFrom(created), nil
}

// ListTasks answers every task of the list, completed and hidden ones included
// (tasks completed in Google's own apps are hidden), in Google's order.
func (cl *Client) ListTasks(ctx context.Context, listID string) ([]Task, error) {
	ctx, cancel := cl.call(ctx)
	defer cancel()
	return cl.listTasks(ctx, listID, func(*tasks.Task) bool { return true })
}

// listTasks answers the list's tasks that keep says to keep.
func (cl *Client) listTasks(ctx context.Context, listID string, keep func(*tasks.Task) bool) ([]Task, error) {
	var out []Task
	err := cl.tasks.Tasks.List(listID).ShowCompleted(true).ShowHidden(true).MaxResults(100).
		Pages(ctx, func(page *tasks.Tasks) error {
			for _, t := range page.Items {
				if !t.Deleted && keep(t) {
					out = append(out, taskFrom(t))
				}
			}
			return nil
		})
	if err != nil {
		return nil, classify(err)
	}
	return out, nil
}

// CompleteTask marks the task completed in Google.
func (cl *Client) CompleteTask(ctx context.Context, listID, taskID string) (Task, error) {
	ctx, cancel := cl.call(ctx)
	defer cancel()
	t, err := cl.tasks.Tasks.Patch(listID, taskID, &tasks.Task{Status: "completed"}).Context(ctx).Do()
	if err != nil {
		return Task{}, classify(err)
	}
	return taskFrom(t), nil
}

// dueDate is midnight UTC of t's calendar date, the form the Tasks API stores.
func dueDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func taskFrom(t *tasks.Task) Task {
	out := Task{ID: t.Id, Title: t.Title, Completed: t.Status == "completed"}
	if d, err := time.Parse(time.RFC3339, t.Due); err == nil {
		out.Due = dueDate(d.UTC())
	}
	if t.Completed != nil {
		if c, err := time.Parse(time.RFC3339, *t.Completed); err == nil {
			out.CompletedAt = c
		}
	}
	return out
}
