package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
)

// The list version (team_changes.list_version, migration 0022) is a team's
// counter of everything its contacts and deals tables can show: the rows
// (contacts, deals, and the activities behind Last contacted and Next
// step), the members (owner names, the owner selects), the team's
// settings, its saved views and its members' column choices. The handlers
// cache rendered list pages per version (handlers/list_cache.go); each
// request reads the version with its session (FindRequest), so a write
// through any instance makes the next request on every instance render
// afresh.
//
// The rule: a write that can change what a list shows calls listChanged in
// its transaction. emitMany (every contact, deal and note write announces
// itself there), recordChange (deals, activities, members, teams),
// boardChanged and touchContact do it for their callers; the few writes
// that go through none of them (saved views, column choices, team and
// stage settings) call it themselves. TestEveryWriteMovesTheListVersion
// runs every write method on both databases.
//
// listChanged only notes the team: inTx moves the counters once, as the
// transaction's last statement, for the same reason recordChange runs
// last (the counter row is the lock that orders a team's writers; a writer
// that went on to other rows after taking it could meet one that holds
// those rows and waits for the counter).

type listMarksKey struct{}

// listMarks are the teams whose list version the transaction in progress
// moves when it commits, (terms) those whose terms version it moves with
// it, and (imports) those whose import version it moves with it: the
// transaction is an import job's batch (importBatchMoves). log is which
// records its term writes changed (the terms log: search_patch.go).
type listMarks struct {
	teams, terms, imports []int64
	log                   termLog
}

// listChanged records that the write in progress can change what the
// teams' lists show. Inside inTx it only notes them; outside (a single
// statement on the pool) it moves the counters at once.
func (s *Store) listChanged(ctx context.Context, db bun.IDB, teams ...int64) error {
	if m, ok := ctx.Value(listMarksKey{}).(*listMarks); ok {
		m.teams = append(m.teams, teams...)
		return nil
	}
	return bumpListVersions(ctx, db, teams, nil, nil, nil)
}

// The terms version (team_changes.terms_version, migration 0026) is the
// part of the list version the search cache's term sets depend on
// (search_cache.go): it moves, always together with the list version, on
// the writes that can change what a search matches or the term-derived
// columns a search's cached order holds — a term row written or deleted
// (replaceTerms, insertTerms, an import's updated terms), a record created
// or deleted (its terms go with it: ON DELETE CASCADE), a name, email,
// phone or company saved, even when its terms stay the same (a name's
// case: the name sort's order). A status or owner edit, a note, an
// activity, a next step moved on move the list version alone, and the
// term sets, dense sets and name-sorted ordered sets stay warm.
// TestEveryTermWriteMovesTheTermsVersion classifies every list write.

// termsChanged records that the write in progress changes the teams'
// search terms (and so their lists): as listChanged, noted inside inTx and
// moved at once outside it.
//
// It does not say which records changed: the terms log (term_changes)
// then holds "every record" for the version, and the search cache reads
// the teams' sets anew. termRecordsChanged names them.
func termsChanged(ctx context.Context, db bun.IDB, teams ...int64) error {
	return termsChangedLog(ctx, db, teams, func(l termLog) {
		for _, t := range teams {
			l.everything(t)
		}
	})
}

// termRecordsChanged is termsChanged for the records ids of one term
// table of a team, which the terms log then names (search_patch.go).
func termRecordsChanged(ctx context.Context, db bun.IDB, ts termSet, teamID int64, ids ...int64) error {
	return termsChangedLog(ctx, db, []int64{teamID}, func(l termLog) { l.add(teamID, ts, ids) })
}

func termsChangedLog(ctx context.Context, db bun.IDB, teams []int64, note func(termLog)) error {
	if m, ok := ctx.Value(listMarksKey{}).(*listMarks); ok {
		m.teams = append(m.teams, teams...)
		m.terms = append(m.terms, teams...)
		if m.log == nil {
			m.log = termLog{}
		}
		note(m.log)
		return nil
	}
	l := termLog{}
	note(l)
	return bumpListVersions(ctx, db, teams, teams, nil, l)
}

// The import version (team_changes.import_version, migration 0027) counts
// the moves of the list version that came from import jobs' batches: a
// batch's transaction moves both by one (and nothing else moves the import
// version), so list_version - import_version stands still while only a
// running import adds to a team's tables, and moves with every other write
// — a user's edit, a teammate's, the app's own, through any instance. The
// list cache keys its pages by that difference and serves a page drawn
// before an import's latest batches for at most a short bound
// (handlers/list_cache.go): the import's rows show up to that late, any
// other write makes the next request draw afresh.

// importBatchMoves records that the transaction in progress is one batch
// of an import job of the team (it writes nothing but the job's own rows):
// its move of the list version counts as an import's. Outside inTx it does
// nothing (the move then counts as any write's: drawn afresh).
func importBatchMoves(ctx context.Context, teamID int64) {
	if m, ok := ctx.Value(listMarksKey{}).(*listMarks); ok {
		m.teams = append(m.teams, teamID)
		m.imports = append(m.imports, teamID)
	}
}

// teamIDs is the teams' ids sorted, each once, without the zero ones.
func teamIDs(teams []int64) []int64 {
	ids := slices.DeleteFunc(slices.Clone(teams), func(id int64) bool { return id <= 0 })
	slices.Sort(ids)
	return slices.Compact(ids)
}

// bumpListVersions moves the list version of each team once, the terms
// version of the teams in terms and the import version of the teams in
// imports (both subsets of teams), in one statement over the teams in
// order (a fixed lock order), and writes the terms log of the new terms
// versions (log: which records changed, per team).
func bumpListVersions(ctx context.Context, db bun.IDB, teams, terms, imports []int64, log termLog) error {
	ids := teamIDs(append(append(slices.Clone(teams), terms...), imports...))
	if len(ids) == 0 {
		return nil
	}
	q := "UPDATE team_changes SET list_version = list_version + 1"
	var args []any
	for _, c := range []struct {
		col   string
		teams []int64
	}{{"terms_version", teamIDs(terms)}, {"import_version", teamIDs(imports)}} {
		switch {
		case len(c.teams) == 0:
		case len(c.teams) == len(ids):
			q += ", " + c.col + " = " + c.col + " + 1"
		default:
			q += ", " + c.col + " = " + c.col + " + CASE WHEN team_id IN (?) THEN 1 ELSE 0 END"
			args = append(args, bun.In(c.teams))
		}
	}
	args = append(args, bun.In(ids))
	if _, err := db.NewRaw(q+" WHERE team_id IN (?)", args...).Exec(ctx); err != nil {
		return fmt.Errorf("move the list version of teams %v (terms %v, imports %v): %w", ids, terms, imports, err)
	}
	if t := teamIDs(terms); len(t) > 0 {
		return writeTermLog(ctx, db, t, log)
	}
	return nil
}

// withListMarks runs fn with a fresh set of marks in its context and, when
// fn succeeds, moves the marked teams' list versions as the transaction's
// last statement.
func withListMarks(fn func(ctx context.Context, tx bun.Tx) error) func(ctx context.Context, tx bun.Tx) error {
	return func(ctx context.Context, tx bun.Tx) error {
		m := &listMarks{}
		if err := fn(context.WithValue(ctx, listMarksKey{}, m), tx); err != nil {
			return err
		}
		return bumpListVersions(ctx, tx, m.teams, m.terms, m.imports, m.log)
	}
}

// ListVersion reads the team's list version (0 when the team has no
// counters row: nothing may then be cached for it).
func (s *Store) ListVersion(ctx context.Context, teamID int64) (int64, error) {
	var v []int64
	if err := s.DB.NewRaw("SELECT list_version FROM team_changes WHERE team_id = ?", teamID).Scan(ctx, &v); err != nil {
		return 0, fmt.Errorf("list version of team %d: %w", teamID, err)
	}
	if len(v) == 0 {
		return 0, nil
	}
	return v[0], nil
}

// SearchVersions are a team's list and terms versions, read together (0
// when the team has no counters row: nothing may then be cached for it).
type SearchVersions struct {
	List  int64 `bun:"lv"`
	Terms int64 `bun:"tv"`
	// Import is the part of List that import jobs' batches moved.
	Import int64 `bun:"iv"`
}

// SearchVersions reads the team's list, terms and import versions in one
// statement.
func (s *Store) SearchVersions(ctx context.Context, teamID int64) (SearchVersions, error) {
	var v []SearchVersions
	if err := s.DB.NewRaw("SELECT list_version AS lv, terms_version AS tv, import_version AS iv FROM team_changes WHERE team_id = ?", teamID).Scan(ctx, &v); err != nil {
		return SearchVersions{}, fmt.Errorf("search versions of team %d: %w", teamID, err)
	}
	if len(v) == 0 {
		return SearchVersions{}, nil
	}
	return v[0], nil
}

// userListChanged moves the list version of the user's team (a column
// choice is the user's own, but cached pages are per team version), after
// the write: a reader between the two renders the new choice under the old
// version at worst, never the old one under the new.
func (s *Store) userListChanged(ctx context.Context, userID int64) error {
	if _, err := s.DB.NewRaw("UPDATE team_changes SET list_version = list_version + 1 WHERE team_id = (SELECT team_id FROM users WHERE id = ?)", userID).Exec(ctx); err != nil {
		return fmt.Errorf("move the list version of user %d's team: %w", userID, err)
	}
	return nil
}
