package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Search
//
// Contacts and deals are searched through term tables (contact_terms,
// deal_terms): one row (team_id, term, record id) per distinct search token of
// a record, kept up to date in the same transaction as every write. A search
// word matches a record when one of its terms starts with the word, which is a
// range scan `term >= w AND term < w+U+10FFFF` on the primary key
// (team_id, term, id) — the same SQL and the same plan on MySQL and SQLite.
//
// Why not FULLTEXT (MySQL) and FTS5 (SQLite)? They can answer "which records
// match" quickly, but a page also needs an order, and MEASURED.md shows
// FULLTEXT with ORDER BY costs ~1.8 s for a common word at 1M rows because
// every hit is sorted. With our own table the list code picks a plan from the
// estimated number of hits of each word (planSearch):
//
//   - rare: when the records matching every word number at most rareIDCap,
//     their ids are read from the term index (intersected in SQL), then the
//     rows are loaded by primary key and only those are sorted;
//   - materialised walk: for words of middling frequency (and intersections
//     of several words) the sort index is walked in order, joined to the
//     matching ids materialised once into a keyed temporary table. Both are
//     sequential reads, which matter on a server whose buffer pool is far
//     smaller than the data (MariaDB's default is 128 MB);
//   - probe walk: a very common word matches densely, so the sort index is
//     walked and each row's own terms are probed through (record id, term);
//     a page fills after a few dozen rows.
//
// The tokens, the two dialects' behaviour and the prefix rules are the same
// everywhere, which a single FULLTEXT/FTS5 pair could not promise (different
// tokenisers, stop words and minimum word lengths).
//
// Tokens (all lower-cased, accents removed):
//   - every word of the name and company ("O'Brien" gives o, brien and obrien);
//   - the whole email, "@" plus its domain, the parts of its local part split
//     on . _ - + and the labels of its domain (acme, com);
//   - the phone's digits, its national number (without the international
//     prefix and country code, or without the trunk 0) and the digits from
//     each group as typed on, so that "+49 151 2345678" is found by 4915…,
//     0151 2345…, 151 234… and 2345678.
//
// A token that is a prefix of another token of the same record is not stored:
// every word that would match it also matches the longer token.
//
// Query words: a chunk with "@" is an email prefix; a run of chunks made of
// digits and + - ( ) is one phone number (its digits, also tried without 00
// or a leading 0), and also matches words made of digits (so "Studio 54" is
// found); any other chunk splits into words like the stored names. All words
// must match. Text that leaves no word (only punctuation) matches nothing.

const (
	// maxTermLen is the longest stored term in bytes; longer tokens and
	// query words are cut (at a rune boundary), which keeps prefix semantics.
	maxTermLen = 64
	// termBound closes a prefix range: every string that starts with p is
	// below p+termBound in binary (code point) order.
	termBound = "\U0010FFFF"
)

// Search plan thresholds, in estimated term rows (see estimateHits; on
// MySQL the estimate runs about twice the true count). Variables only so
// that tests can force each plan.
var (
	// rareIDCap: a match set of at most this many records is loaded by
	// primary key and sorted.
	rareIDCap = 1000
	// materialCap: a word with at most this many hits is materialised and
	// joined to the walk of the sort index; above it, rows are probed.
	materialCap = 40000
)

// fold lower-cases s and removes accents, so that "Müller" and "muller"
// meet.
func fold(s string) string {
	s = strings.ToLower(s)
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	// A transform chain keeps state between calls, so each call makes its
	// own: one shared chain panicked under concurrent searches.
	folder := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(folder, s)
	if err != nil {
		return s
	}
	return out
}

// cutTerm shortens a token to maxTermLen bytes at a rune boundary.
func cutTerm(s string) string {
	if len(s) <= maxTermLen {
		return s
	}
	s = s[:maxTermLen]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// words splits text into folded words. For storing, joined adds the
// letters of a chunk with inner punctuation as one more word ("o'brien"
// gives o, brien and obrien), so that either spelling finds it; a query
// splits the same way but needs only the parts.
func words(text string, joined bool) []string {
	var out []string
	for _, chunk := range strings.Fields(fold(text)) {
		parts := strings.FieldsFunc(chunk, func(r rune) bool { return !isWordRune(r) })
		out = append(out, parts...)
		if joined && len(parts) > 1 {
			out = append(out, strings.Join(parts, ""))
		}
	}
	return out
}

// digitsOf keeps the ASCII digits of s.
func digitsOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// phoneTokens are the digit strings a phone number can be found by.
func phoneTokens(phone string) []string {
	phone = strings.TrimSpace(phone)
	d := digitsOf(phone)
	if d == "" {
		return nil
	}
	out := []string{d}
	// Each group of digits as typed starts a token, as long as six digits
	// remain: "+33 1 89 04 16 61" is found by 89 04… and 04 16 61.
	pos := 0
	prevDigit := false
	for i := 0; i < len(phone); i++ {
		isDigit := phone[i] >= '0' && phone[i] <= '9'
		if isDigit {
			if !prevDigit && pos > 0 && len(d)-pos >= 6 {
				out = append(out, d[pos:])
			}
			pos++
		}
		prevDigit = isDigit
	}
	// The national number: without the international prefix and country
	// code, or without the trunk 0.
	switch {
	case strings.HasPrefix(phone, "+"):
		out = append(out, d[min(countryCodeLen(d), len(d)):])
	case strings.HasPrefix(d, "00") && len(d) > 2:
		out = append(out, d[2:], d[2+min(countryCodeLen(d[2:]), len(d)-2):])
	case strings.HasPrefix(d, "0"):
		out = append(out, d[1:])
	}
	return out
}

// countryCodeLen is the length of the country calling code that starts the
// international number d (ITU-T E.164 zones: 1 and 7 are one digit, a fixed
// set two digits, the rest three).
func countryCodeLen(d string) int {
	if d == "" {
		return 0
	}
	if d[0] == '1' || d[0] == '7' {
		return 1
	}
	if len(d) >= 2 && strings.Contains(twoDigitCountryCodes, d[:2]+" ") {
		return 2
	}
	return 3
}

const twoDigitCountryCodes = "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 " +
	"60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 "

// emailTokens are the whole email, "@domain", the local part's pieces and the
// domain's labels.
func emailTokens(email string) []string {
	email = fold(strings.TrimSpace(email))
	if email == "" {
		return nil
	}
	out := []string{email}
	local, domain, ok := strings.Cut(email, "@")
	if ok {
		out = append(out, "@"+domain)
		out = append(out, strings.FieldsFunc(domain, func(r rune) bool { return !isWordRune(r) })...)
	}
	out = append(out, strings.FieldsFunc(local, func(r rune) bool { return !isWordRune(r) })...)
	return out
}

// finishTerms cuts, sorts and de-duplicates tokens and drops those that are
// a prefix of another token (they add no match).
func finishTerms(tokens []string) []string {
	for i, t := range tokens {
		tokens[i] = cutTerm(t)
	}
	sort.Strings(tokens)
	out := tokens[:0]
	for i, t := range tokens {
		if t == "" {
			continue
		}
		if i+1 < len(tokens) && strings.HasPrefix(tokens[i+1], t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// contactTerms lists the search terms of a contact.
func contactTerms(name, email, company, phone string) []string {
	var t []string
	t = append(t, words(name, true)...)
	t = append(t, words(company, true)...)
	t = append(t, emailTokens(email)...)
	t = append(t, phoneTokens(phone)...)
	return finishTerms(t)
}

// dealTerms lists the search terms of a deal: its name, company and contact
// name.
func dealTerms(name, company, contactName string) []string {
	var t []string
	t = append(t, words(name, true)...)
	t = append(t, words(company, true)...)
	t = append(t, words(contactName, true)...)
	return finishTerms(t)
}

// searchWord is one word of a search: a record matches when one of its terms
// starts with one of the prefixes.
type searchWord struct {
	prefixes []string
}

func isPhoneChunk(s string) bool {
	hasDigit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			hasDigit = true
		case c == '+' || c == '-' || c == '(' || c == ')' || c == '.' || c == '/':
		default:
			return false
		}
	}
	return hasDigit
}

// parseSearch turns what a user typed into search words. It reports false
// when the text held something but no usable word (then nothing matches).
func parseSearch(q string) ([]searchWord, bool) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, true
	}
	var out []searchWord
	seen := map[string]bool{}
	addWord := func(prefixes ...string) {
		var ps []string
		for _, p := range prefixes {
			p = cutTerm(p)
			if p != "" && !seen[p] {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			return
		}
		for _, p := range ps {
			seen[p] = true
		}
		out = append(out, searchWord{prefixes: ps})
	}
	chunks := strings.Fields(q)
	for i := 0; i < len(chunks); i++ {
		chunk := chunks[i]
		switch {
		case strings.Contains(chunk, "@"):
			addWord(fold(strings.Trim(chunk, `"'<>,;()`)))
		case isPhoneChunk(chunk):
			// A phone number may be typed with spaces: "+49 151 234".
			number := chunk
			for i+1 < len(chunks) && isPhoneChunk(chunks[i+1]) {
				i++
				number += " " + chunks[i]
			}
			d := digitsOf(number)
			variants := []string{d}
			switch {
			case strings.HasPrefix(d, "00") && len(d) > 2:
				variants = append(variants, d[2:])
			case strings.HasPrefix(d, "0") && len(d) > 1:
				variants = append(variants, strings.TrimLeft(d, "0"))
			}
			addWord(variants...)
		default:
			for _, w := range words(chunk, false) {
				addWord(w)
			}
		}
	}
	return out, len(out) > 0
}

// termSet names a term table, the column holding the record id and the
// index on (record id, term).
type termSet struct {
	table    string // contact_terms
	column   string // contact_id
	byRecord string // contact_terms_contact
}

var (
	contactTermSet = termSet{"contact_terms", "contact_id", "contact_terms_contact"}
	dealTermSet    = termSet{"deal_terms", "deal_id", "deal_terms_deal"}
)

// termRow is one row of a term table, for inserts.
type termRow struct {
	TeamID int64
	Term   string
	ID     int64
}

// insertTerms writes term rows in multi-row INSERT statements.
func insertTerms(ctx context.Context, db bun.IDB, ts termSet, rows []termRow) error {
	const batch = 2000
	for len(rows) > 0 {
		n := min(batch, len(rows))
		var b strings.Builder
		b.WriteString("INSERT INTO " + ts.table + " (team_id, term, " + ts.column + ") VALUES ")
		args := make([]any, 0, 3*n)
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?)")
			args = append(args, r.TeamID, r.Term, r.ID)
		}
		if _, err := db.NewRaw(b.String(), args...).Exec(ctx); err != nil {
			return fmt.Errorf("insert %s: %w", ts.table, err)
		}
		rows = rows[n:]
	}
	return nil
}

// replaceTerms makes the stored terms of one record equal terms, touching
// only the rows that differ.
func replaceTerms(ctx context.Context, db bun.IDB, ts termSet, teamID, id int64, terms []string) error {
	var old []string
	if err := db.NewRaw("SELECT term FROM "+ts.table+" WHERE "+ts.column+" = ? AND team_id = ?", id, teamID).Scan(ctx, &old); err != nil {
		return fmt.Errorf("read %s of %d: %w", ts.table, id, err)
	}
	want := map[string]bool{}
	for _, t := range terms {
		want[t] = true
	}
	var gone []string
	for _, t := range old {
		if want[t] {
			delete(want, t)
		} else {
			gone = append(gone, t)
		}
	}
	if len(gone) > 0 {
		if _, err := db.NewRaw("DELETE FROM "+ts.table+" WHERE team_id = ? AND "+ts.column+" = ? AND term IN (?)",
			teamID, id, bun.In(gone)).Exec(ctx); err != nil {
			return fmt.Errorf("delete %s of %d: %w", ts.table, id, err)
		}
	}
	var add []termRow
	for _, t := range terms {
		if want[t] {
			add = append(add, termRow{teamID, t, id})
		}
	}
	return insertTerms(ctx, db, ts, add)
}

// prefixCond is the SQL condition "alias.term starts with one of the
// word's prefixes", with its arguments.
func prefixCond(alias string, w searchWord) (string, []any) {
	var parts []string
	var args []any
	for _, p := range w.prefixes {
		parts = append(parts, "("+alias+".term >= ? AND "+alias+".term < ?)")
		args = append(args, p, p+termBound)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// estimateHits estimates how many term rows start with one of a word's
// prefixes: on MySQL from the range optimizer's index dives (EXPLAIN, well
// under a millisecond whatever the count), on SQLite by counting up to just
// past materialCap.
func estimateHits(ctx context.Context, s *Store, ts termSet, teamID int64, w searchWord) (int, error) {
	cond, args := prefixCond("t", w)
	args = append([]any{teamID}, args...)
	from := " FROM " + ts.table + " AS t WHERE t.team_id = ? AND " + cond
	if s.Dialect != MySQL {
		var n int
		err := s.DB.NewRaw("SELECT COUNT(*) FROM (SELECT 1"+from+" LIMIT ?) AS hits", append(args, materialCap+1)...).Scan(ctx, &n)
		if err != nil {
			return 0, fmt.Errorf("count search hits: %w", err)
		}
		return n, nil
	}
	rows, err := s.DB.QueryContext(ctx, "EXPLAIN SELECT 1"+from, args...)
	if err != nil {
		return 0, fmt.Errorf("estimate search hits: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, fmt.Errorf("estimate search hits: %w", err)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		return 0, fmt.Errorf("estimate search hits: no plan")
	}
	if err := rows.Scan(ptrs...); err != nil {
		return 0, fmt.Errorf("estimate search hits: %w", err)
	}
	for i, c := range cols {
		if c == "rows" {
			n, err := strconv.Atoi(vals[i].String)
			if err != nil {
				return materialCap + 1, nil
			}
			return n, nil
		}
	}
	return materialCap + 1, nil
}

// searchPlan is how a listing applies the search words; see the package
// notes on search above.
type searchPlan struct {
	none    bool         // nothing can match
	rare    bool         // only the records in ids can match
	ids     []int64      //
	setSQL  string       // materialised match set joined to the walk, or ""
	setArgs []any        //
	probes  []searchWord // words probed row by row
}

// matchSetSQL selects the ids of the records matching every word: the first
// word's term rows, each checked against the other words' materialised
// matches (on MySQL a STRAIGHT_JOIN to a keyed derived table, on SQLite an
// IN over a subquery, which SQLite materialises into an index).
func matchSetSQL(d Dialect, ts termSet, teamID int64, ws []searchWord) (string, []any) {
	var from, where strings.Builder
	var fromArgs, whereArgs []any
	from.WriteString("SELECT DISTINCT t0." + ts.column + " AS id FROM " + ts.table + " AS t0")
	cond, cargs := prefixCond("t0", ws[0])
	where.WriteString(" WHERE t0.team_id = ? AND " + cond)
	whereArgs = append(append(whereArgs, teamID), cargs...)
	for i, w := range ws[1:] {
		a := "t" + strconv.Itoa(i+1)
		cond, cargs := prefixCond(a, w)
		sub := "SELECT " + a + "." + ts.column + " AS id FROM " + ts.table + " AS " + a + " WHERE " + a + ".team_id = ? AND " + cond
		if d == MySQL {
			m := "m" + strconv.Itoa(i+1)
			from.WriteString(" STRAIGHT_JOIN (" + strings.Replace(sub, "SELECT ", "SELECT DISTINCT ", 1) + ") AS " + m + " ON " + m + ".id = t0." + ts.column)
			fromArgs = append(append(fromArgs, teamID), cargs...)
		} else {
			where.WriteString(" AND t0." + ts.column + " IN (" + sub + ")")
			whereArgs = append(append(whereArgs, teamID), cargs...)
		}
	}
	return from.String() + where.String(), append(fromArgs, whereArgs...)
}

// planSearch chooses how to apply the words: see the notes on search.
func planSearch(ctx context.Context, s *Store, ts termSet, teamID int64, ws []searchWord) (searchPlan, error) {
	if len(ws) == 0 {
		return searchPlan{}, nil
	}
	type est struct {
		w searchWord
		n int
	}
	var small, huge []est
	for _, w := range ws {
		n, err := estimateHits(ctx, s, ts, teamID, w)
		if err != nil {
			return searchPlan{}, err
		}
		if n <= materialCap {
			small = append(small, est{w, n})
		} else {
			huge = append(huge, est{w, n})
		}
	}
	var plan searchPlan
	for _, e := range huge {
		plan.probes = append(plan.probes, e.w)
	}
	if len(small) == 0 {
		return plan, nil
	}
	slices.SortFunc(small, func(a, b est) int { return a.n - b.n })
	words := make([]searchWord, len(small))
	for i, e := range small {
		words[i] = e.w
	}
	plan.setSQL, plan.setArgs = matchSetSQL(s.Dialect, ts, teamID, words)
	if rareIDCap <= 0 || len(small) == 1 && small[0].n > rareIDCap {
		return plan, nil
	}
	// Few hits, or several words whose intersection may be small: find the
	// matching ids, and sort just those if they are few.
	var ids []int64
	if err := s.DB.NewRaw(plan.setSQL+" LIMIT ?", append(slices.Clone(plan.setArgs), rareIDCap+1)...).Scan(ctx, &ids); err != nil {
		return searchPlan{}, fmt.Errorf("search: %w", err)
	}
	switch {
	case len(ids) == 0:
		return searchPlan{none: true}, nil
	case len(ids) <= rareIDCap:
		plan.rare, plan.ids, plan.setSQL, plan.setArgs = true, ids, "", nil
	}
	return plan, nil
}
