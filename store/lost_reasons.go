package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// DefaultLostReasons is the list of a team that has not edited its own.
var DefaultLostReasons = []string{"Price", "Timing", "Went with a competitor", "No budget", "No decision / went dark", "Other"}

// Lost reason limits.
const (
	lostReasonMax  = 64
	lostNoteMax    = 500
	lostReasonsMax = 30
)

// OpenStages are the stages a deal is worked in, in pipeline order.
var OpenStages = []string{StageCreated, StageQualified, StageContractSent, StageAppointment}

// StageSetting is a team's setting for one open stage: the chance that a
// deal in it is won (for the board's weighted totals) and how many days
// without anything logged make a deal in it stale.
type StageSetting struct {
	Stage      string `bun:"stage"`
	WinPercent int    `bun:"win_percent"`
	StaleDays  int    `bun:"stale_days"`
}

// DefaultStageSettings are the settings of a team that has not saved its
// own.
func DefaultStageSettings() []StageSetting {
	return []StageSetting{
		{StageCreated, 10, 14}, {StageQualified, 20, 14}, {StageContractSent, 40, 14}, {StageAppointment, 60, 14},
	}
}

// LostReasons lists the team's lost reasons in their order (the defaults
// until an owner or admin saves a list).
func (s *Store) LostReasons(ctx context.Context, teamID int64) ([]string, error) {
	return s.lostReasons(ctx, s.DB, teamID)
}

func (s *Store) lostReasons(ctx context.Context, db bun.IDB, teamID int64) ([]string, error) {
	var rows []string
	if err := db.NewSelect().Table("lost_reasons").Column("reason").Where("team_id = ?", teamID).
		Order("position").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("lost reasons of team %d: %w", teamID, err)
	}
	if len(rows) == 0 {
		return slices.Clone(DefaultLostReasons), nil
	}
	return rows, nil
}

// ParseLostReasons reads a list typed one reason a line: blank lines and
// repeats (ignoring case) are dropped. At least one reason, at most 30, each
// at most 64 characters.
func ParseLostReasons(text string) ([]string, FieldErrors) {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		r := strings.Join(strings.Fields(line), " ")
		if r == "" || slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, r) }) {
			continue
		}
		if utf8.RuneCountInString(r) > lostReasonMax {
			return nil, FieldErrors{"lost_reasons": fmt.Sprintf("Each reason must be at most %d characters.", lostReasonMax)}
		}
		out = append(out, r)
	}
	switch {
	case len(out) == 0:
		return nil, FieldErrors{"lost_reasons": "Keep at least one reason."}
	case len(out) > lostReasonsMax:
		return nil, FieldErrors{"lost_reasons": fmt.Sprintf("Keep at most %d reasons.", lostReasonsMax)}
	}
	return out, nil
}

// SetLostReasons replaces the team's list of lost reasons (owners and admins
// only). Deals already lost keep the reason they were lost for.
func (s *Store) SetLostReasons(ctx context.Context, teamID int64, actor *User, reasons []string) error {
	if err := checkActor(actor, teamID); err != nil {
		return err
	}
	if !actor.CanManage() {
		return ErrNotAllowed
	}
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Table("lost_reasons").Where("team_id = ?", teamID).Exec(ctx); err != nil {
			return fmt.Errorf("clear: %w", err)
		}
		for i, r := range reasons {
			if _, err := tx.NewRaw("INSERT INTO lost_reasons (team_id, position, reason) VALUES (?, ?, ?)", teamID, i, r).Exec(ctx); err != nil {
				return fmt.Errorf("insert %q: %w", r, err)
			}
		}
		return bumpTeamVersion(ctx, tx, teamID)
	})
	if err != nil {
		return fmt.Errorf("set lost reasons of team %d: %w", teamID, err)
	}
	return nil
}

// StageSettings lists the team's settings of every open stage, in pipeline
// order, defaults filling what the team has not saved.
func (s *Store) StageSettings(ctx context.Context, teamID int64) ([]StageSetting, error) {
	var rows []StageSetting
	if err := s.DB.NewSelect().Table("board_stages").Column("stage", "win_percent", "stale_days").
		Where("team_id = ?", teamID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("stage settings of team %d: %w", teamID, err)
	}
	out := DefaultStageSettings()
	for _, r := range rows {
		if i := slices.IndexFunc(out, func(o StageSetting) bool { return o.Stage == r.Stage }); i >= 0 {
			out[i] = r
		}
	}
	return out, nil
}

// CheckStageSettings validates settings as saved from the team page: one per
// open stage, percentages 0–100, stale after 1–365 days.
func CheckStageSettings(settings []StageSetting) FieldErrors {
	fe := FieldErrors{}
	for _, st := range settings {
		if !slices.Contains(OpenStages, st.Stage) {
			fe["stage"] = "Choose one of the open stages."
		}
		if st.WinPercent < 0 || st.WinPercent > 100 {
			fe["win_"+st.Stage] = "Enter a win probability from 0 to 100 %."
		}
		if st.StaleDays < 1 || st.StaleDays > 365 {
			fe["stale_"+st.Stage] = "Enter a number of days from 1 to 365."
		}
	}
	return fe
}

// SetStageSettings saves the team's per-stage settings (owners and admins
// only).
func (s *Store) SetStageSettings(ctx context.Context, teamID int64, actor *User, settings []StageSetting) error {
	if err := checkActor(actor, teamID); err != nil {
		return err
	}
	if !actor.CanManage() {
		return ErrNotAllowed
	}
	if err := CheckStageSettings(settings).err(); err != nil {
		return err
	}
	err := s.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, st := range settings {
			if _, err := tx.NewDelete().Table("board_stages").Where("team_id = ?", teamID).Where("stage = ?", st.Stage).Exec(ctx); err != nil {
				return fmt.Errorf("clear %s: %w", st.Stage, err)
			}
			if _, err := tx.NewRaw("INSERT INTO board_stages (team_id, stage, win_percent, stale_days) VALUES (?, ?, ?, ?)",
				teamID, st.Stage, st.WinPercent, st.StaleDays).Exec(ctx); err != nil {
				return fmt.Errorf("save %s: %w", st.Stage, err)
			}
		}
		return bumpTeamVersion(ctx, tx, teamID)
	})
	if err != nil {
		return fmt.Errorf("set stage settings of team %d: %w", teamID, err)
	}
	return nil
}

// bumpTeamVersion counts a settings change in the team's data version
// (TeamVersion.All), so boards drawn or cached under the old settings (win
// percentages, stale days, lost reasons) are drawn again, and in its list
// version (the deals page's forms offer the reasons; listversion.go).
func bumpTeamVersion(ctx context.Context, tx bun.Tx, teamID int64) error {
	if _, err := tx.NewRaw("UPDATE team_changes SET version = version + 1, list_version = list_version + 1 WHERE team_id = ?", teamID).Exec(ctx); err != nil {
		return fmt.Errorf("count the change: %w", err)
	}
	return nil
}
