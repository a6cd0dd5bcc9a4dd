package views

import (
	"net/url"
	"strings"
	"time"

	"sherpa/store"
)

// BulkBar is the bulk form above a table.
type BulkBar struct {
	List      string // "contacts" or "deals"
	Query     string // the page's query string ("all matching" selects its rows)
	CanAssign bool
	Members   []store.User
	Reasons   []string // lost reasons (deals)
}

func (b BulkBar) formID() string { return "bulk-" + b.List }

func (b BulkBar) countURL() string {
	return "/bulk/count?list=" + b.List + "&query=" + urlQueryEscape(b.Query)
}

// BulkDeleteView is the confirmation of a bulk delete.
type BulkDeleteView struct {
	List    string
	Back    string
	Query   string
	All     bool
	IDs     []int64
	Records int
	Deals   int
	Notes   int
}

// BulkJobView is a bulk job's page.
type BulkJobView struct {
	Job     *store.BulkJob
	Now     time.Time
	CanUndo bool
	Path    string
	Refused []store.BulkRow
	Kept    []store.BulkRow
}

func (v BulkJobView) active() bool {
	switch v.Job.Status {
	case store.BulkQueued, store.BulkRunning, store.BulkUndoing:
		return true
	}
	return false
}

func (v BulkJobView) percent() int {
	if v.Job.Total == 0 {
		return 0
	}
	return v.Job.Done * 100 / v.Job.Total
}

// what says what the job does, in words.
func (v BulkJobView) what() string {
	j := v.Job
	switch j.Action {
	case store.BulkAssign:
		if j.Value == "" {
			return "Unassign"
		}
		return "Assign to member #" + j.Value
	case store.BulkStatus:
		return "Set status to " + j.Value
	case store.BulkStage:
		stage, _, _ := strings.Cut(j.Value, "\t")
		return "Move to " + stage
	}
	return "Delete"
}

func bulkStatusLabel(st string) string {
	switch st {
	case store.BulkQueued:
		return "Waiting to start"
	case store.BulkRunning:
		return "Running"
	case store.BulkDone:
		return "Done"
	case store.BulkFailed:
		return "Failed"
	case store.BulkUndoing:
		return "Undoing"
	case store.BulkUndone:
		return "Undone"
	}
	return st
}

func (v BulkJobView) undoLeft() string {
	left := store.BulkUndoFor - v.Now.Sub(v.Job.FinishedAt)
	h := int(left.Hours())
	if h >= 1 {
		return itoa(h) + " h"
	}
	return itoa(int(left.Minutes())) + " min"
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func singular(list string) string { return strings.TrimSuffix(list, "s") }
