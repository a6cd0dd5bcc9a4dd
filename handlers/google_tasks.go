package handlers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"sherpa/google"
	"sherpa/store"
	"sherpa/views"
)

// The Tasks tab: the viewer's Google Tasks list for the contact, made on
// the first task, in three sections (overdue, upcoming, completed).

func (s *Server) tasksTab(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	v := views.TasksView{GoogleTab: googleTab(contact, "tasks"), Add: newTaskForm()}
	return s.googleTabPage(c, contact, &v.GoogleTab, func(cl *google.Client) (templ.Component, error) {
		return s.showTasks(c, cl, contact, &v)
	})
}

func newTaskForm() views.TaskForm {
	return views.TaskForm{Token: newFormToken(), Errors: views.Errors{}}
}

func (s *Server) showTasks(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.TasksView) (templ.Component, error) {
	if err := s.loadTasks(c, cl, contact, v); err != nil {
		return nil, err
	}
	return views.TasksTab(*v), nil
}

// taskListID is the id of the viewer's Google Tasks list for the contact,
// "" before the first task.
func (s *Server) taskListID(c *fiber.Ctx, contact *store.Contact) (string, error) {
	id, err := s.store.TaskListID(c.UserContext(), currentUser(c).ID, contact.ID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return id, err
}

// loadTasks fills in the three sections from the viewer's list for the
// contact, unless a problem is already shown. Overdue means due before
// today in the viewer's time zone.
func (s *Server) loadTasks(c *fiber.Ctx, cl *google.Client, contact *store.Contact, v *views.TasksView) error {
	if cl == nil || v.Problem != nil {
		return nil
	}
	v.Token = newFormToken()
	listID, err := s.taskListID(c, contact)
	if err != nil {
		return err
	}
	var items []google.Task
	if listID != "" {
		items, err = cl.ListTasks(c.UserContext(), listID)
		// A list deleted in Google is made again by the next task added.
		if err != nil && !errors.Is(err, google.ErrNotFound) {
			return googleTroubleOf(err, v.Tab, nil).show(&v.GoogleTab, err)
		}
	}
	v.Loaded = true
	y, m, d := time.Now().In(viewerLocation(c, "")).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for _, t := range items {
		it := views.TaskItem{ID: t.ID, Title: t.Title, Due: t.Due, Completed: t.Completed, CompletedAt: t.CompletedAt}
		switch {
		case t.Completed:
			v.Completed = append(v.Completed, it)
		case !t.Due.IsZero() && t.Due.Before(today):
			v.Overdue = append(v.Overdue, it)
		default:
			v.Upcoming = append(v.Upcoming, it)
		}
	}
	byDue := func(list []views.TaskItem) {
		sort.SliceStable(list, func(i, j int) bool {
			a, b := list[i].Due, list[j].Due
			if a.IsZero() != b.IsZero() {
				return b.IsZero() // tasks without a due date last
			}
			return a.Before(b)
		})
	}
	byDue(v.Overdue)
	byDue(v.Upcoming)
	sort.SliceStable(v.Completed, func(i, j int) bool { return v.Completed[i].CompletedAt.After(v.Completed[j].CompletedAt) })
	return nil
}

// parseDue reads a date input (YYYY-MM-DD, or "" for none).
func parseDue(s string, errs views.Errors) time.Time {
	if s == "" {
		return time.Time{}
	}
	due, err := time.Parse(time.DateOnly, s)
	switch {
	case err != nil:
		errs["due"] = "Enter a date such as " + time.Now().Format(time.DateOnly) + ", or leave it empty."
	case due.Sub(time.Now()).Abs() > dateRange:
		errs["due"] = "Choose a date within ten years of today."
	}
	return due
}

// addTask adds a task to the viewer's list for the contact (making the list
// on first use, or again after it was deleted in Google) and logs a task
// activity.
func (s *Server) addTask(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	f := views.TaskForm{Token: formToken(c, "token"), Title: store.CleanText(c.FormValue("title")), Due: strings.TrimSpace(c.FormValue("due")), Errors: views.Errors{}}
	switch {
	case f.Title == "":
		f.Errors["title"] = "Enter what there is to do."
	default:
		check(f.Errors, "title", store.TextError("A task", f.Title, store.MaxTaskTitleLen, false))
	}
	due := parseDue(f.Due, f.Errors)
	v := views.TasksView{GoogleTab: googleTab(contact, "tasks"), Add: f}
	return s.runGoogleAction(c, googleAction{
		contact: contact, tab: &v.GoogleTab, kind: claimTask, token: f.Token, errs: f.Errors,
		already: "This task was already added; it was not added again.",
		words: writeWords{nothing: "No task was added.",
			unsure: "The task may have been added; check the list below. Adding this form again will not add it twice."},
		do: func(ctx context.Context, cl *google.Client) (string, error) {
			listID, err := s.ensureTaskList(c, cl, contact)
			if err != nil {
				return "", err
			}
			task, err := cl.AddTask(ctx, listID, f.Title, due, f.Token)
			if err != nil {
				return "", err
			}
			desc := "Task: " + task.Title
			if !task.Due.IsZero() {
				desc += " (due " + task.Due.Format("2 Jan 2006") + ")"
			}
			// A task counts as scheduled (the board's stale rule) until its due day ends.
			dueEnd := task.Due
			if !dueEnd.IsZero() {
				dueEnd = dueEnd.Add(24 * time.Hour)
			}
			if err := s.logScheduled(c, contact, store.ActivityTask, desc, dueEnd); err != nil {
				return "", err
			}
			if task.Earlier {
				return "This task had already been added to your Google Tasks on the earlier try; it was not added again.", nil
			}
			return "Task added to your Google Tasks.", nil
		},
		reset: func() { v.Add = newTaskForm() },
		show:  func(cl *google.Client) (templ.Component, error) { return s.showTasks(c, cl, contact, &v) },
	})
}

// ensureTaskList answers the viewer's list for the contact, made in Google
// (and remembered) when there is none yet or it was deleted there.
func (s *Server) ensureTaskList(c *fiber.Ctx, cl *google.Client, contact *store.Contact) (string, error) {
	listID, err := s.taskListID(c, contact)
	if err != nil {
		return "", err
	}
	ensured, err := cl.EnsureTaskList(c.UserContext(), listID, "Sherpa: "+contact.Name)
	if err != nil {
		return "", err
	}
	if ensured != listID {
		if err := s.store.SetTaskListID(c.UserContext(), currentUser(c).ID, contact.ID, ensured); err != nil {
			return "", err
		}
	}
	return ensured, nil
}

// completeTask marks one of the viewer's tasks for the contact completed in
// Google and logs a task_completed activity.
func (s *Server) completeTask(c *fiber.Ctx) error {
	contact, err := s.contact(c)
	if err != nil {
		return err
	}
	taskID := c.Params("task")
	if !googleIDRe.MatchString(taskID) {
		return fiber.ErrNotFound
	}
	v := views.TasksView{GoogleTab: googleTab(contact, "tasks"), Add: newTaskForm()}
	return s.runGoogleAction(c, googleAction{
		contact: contact, tab: &v.GoogleTab, kind: claimTaskComplete, token: formToken(c, "token"), item: taskID,
		already: "This task was already completed.",
		gone:    "This task is no longer in your Google Tasks; nothing was changed.",
		words: writeWords{nothing: "The task was not marked complete.",
			unsure: "The task may have been marked complete; check the list below."},
		do: func(ctx context.Context, cl *google.Client) (string, error) {
			listID, err := s.taskListID(c, contact)
			if err != nil {
				return "", err
			}
			if listID == "" {
				return "", fmt.Errorf("%w: no task list for the contact", google.ErrNotFound)
			}
			task, err := cl.CompleteTask(ctx, listID, taskID)
			if err != nil {
				return "", err
			}
			if err := s.logActivity(c, contact, store.ActivityTaskCompleted, "Task completed: "+task.Title); err != nil {
				return "", err
			}
			return "Completed: " + task.Title, nil
		},
		show: func(cl *google.Client) (templ.Component, error) { return s.showTasks(c, cl, contact, &v) },
	})
}
