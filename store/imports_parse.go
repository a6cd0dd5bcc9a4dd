package store

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"sherpa/money"
)

// Import parsing: what a file is (encoding, delimiter), which Sherpa field
// each column holds, and how a cell's text becomes a field's value. All of
// it is pure; imports.go runs it against the database.

// Import kinds.
const (
	ImportContacts = "contacts"
	ImportDeals    = "deals"
)

// Import modes (contacts; deals are always created).
const (
	ModeCreate = "create" // create new contacts only; existing emails are skipped
	ModeUpsert = "upsert" // create new ones and update existing ones
	ModeUpdate = "update" // update existing contacts only
)

// ImportModes lists the modes in form order.
var ImportModes = []string{ModeCreate, ModeUpsert, ModeUpdate}

// ImportField is a Sherpa field a column can be mapped to.
type ImportField struct {
	Key   string
	Label string
}

// ContactImportFields and DealImportFields are the fields of each kind, in
// form order.
var (
	ContactImportFields = []ImportField{
		{"name", "Name"}, {"first_name", "First name"}, {"last_name", "Last name"}, {"email", "Email"},
		{"phone", "Phone"}, {"company", "Company"}, {"status", "Status"}, {"owner", "Owner"},
	}
	DealImportFields = []ImportField{
		{"name", "Name"}, {"stage", "Stage"}, {"goal", "Goal"}, {"amount", "Amount"}, {"close_date", "Close date"},
		{"owner", "Owner"}, {"contact_email", "Contact email"}, {"company", "Company"}, {"lost_reason", "Lost reason"},
	}
)

// ImportFields lists the fields of a kind.
func ImportFields(kind string) []ImportField {
	if kind == ImportDeals {
		return DealImportFields
	}
	return ContactImportFields
}

// importAliases maps a header, folded by headerKey, to a field: Sherpa's own
// export, HubSpot, Pipedrive and Google Contacts headers.
var importAliases = map[string]map[string]string{
	ImportContacts: aliasMap(map[string][]string{
		"name":       {"name", "full name", "contact name", "person - name", "display name", "contact"},
		"first_name": {"first name", "given name", "firstname", "person - first name"},
		"last_name":  {"last name", "family name", "surname", "lastname", "person - last name"},
		"email": {"email", "e-mail", "email address", "e-mail address", "e-mail 1 - value", "person - email",
			"work email", "primary email", "emails"},
		"phone": {"phone", "phone number", "mobile", "mobile phone", "mobile phone number", "phone 1 - value",
			"person - phone", "telephone", "work phone"},
		"company": {"company", "company name", "organization", "organisation", "organization - name",
			"organization 1 - name", "organization name", "account", "account name", "person - organization"},
		"status": {"status", "lead status", "contact status", "person - status"},
		"owner":  {"owner", "contact owner", "person - owner", "assigned to", "hubspot owner"},
	}),
	ImportDeals: aliasMap(map[string][]string{
		"name":          {"name", "deal name", "deal - title", "title", "deal", "deal title"},
		"stage":         {"stage", "deal stage", "deal - stage", "pipeline stage"},
		"goal":          {"goal", "deal - goal", "target"},
		"amount":        {"amount", "value", "deal - value", "deal amount", "deal value"},
		"close_date":    {"close date", "expected close date", "deal - expected close date", "closing date", "closed date", "deal - close date"},
		"owner":         {"owner", "deal owner", "deal - owner", "assigned to"},
		"contact_email": {"contact email", "person - email", "email", "contact e-mail", "associated contact email"},
		"company":       {"company", "organization - name", "organization", "company name", "deal - organization"},
		// Pipedrive: "Lost reason" / "Deal - Lost reason"; HubSpot: "Closed lost reason".
		"lost_reason": {"lost reason", "deal - lost reason", "closed lost reason", "deal lost reason", "reason lost", "loss reason", "lost reason (deal)"},
	}),
}

func aliasMap(m map[string][]string) map[string]string {
	out := map[string]string{}
	for field, names := range m {
		for _, n := range names {
			out[headerKey(n)] = field
		}
	}
	return out
}

// headerKey folds a header for matching: lower case, no accents, letters
// and digits only.
func headerKey(h string) string {
	var b strings.Builder
	for _, r := range fold(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// AutoMap proposes a field for every column from its header ("" ignores
// it). A field goes to the first column that names it; a duplicate header
// is left unmapped.
func AutoMap(kind string, header []string) []string {
	aliases := importAliases[kind]
	out := make([]string, len(header))
	used := map[string]bool{}
	for i, h := range header {
		f := aliases[headerKey(h)]
		if f != "" && !used[f] {
			out[i], used[f] = f, true
		}
	}
	// A name column wins over first and last name; without one, both are used.
	if used["name"] {
		for i, f := range out {
			if f == "first_name" || f == "last_name" {
				out[i] = ""
			}
		}
	}
	return out
}

// ImportDetected is what Sherpa found out about an uploaded file.
type ImportDetected struct {
	Encoding  string     `json:"encoding"`  // "UTF-8", "UTF-8 (BOM)", "UTF-16LE", "UTF-16BE", "Windows-1252"
	Delimiter string     `json:"delimiter"` // ",", ";" or "\t"
	Header    []string   `json:"header"`
	Sample    [][]string `json:"sample"` // the first rows, for the mapping page
	// DateOrders says, per column whose values look like dates, how they
	// are written: "iso", "dmy", "mdy", "ambiguous" (day and month both ≤ 12
	// everywhere) or "mixed".
	DateOrders map[int]string `json:"date_orders,omitempty"`
	// Values lists distinct values (up to a limit) per column, from the
	// first rows, for the value mapping of statuses, stages and owners.
	Values   map[int][]string `json:"values,omitempty"`
	Warnings []string         `json:"warnings,omitempty"`
	// Problem is why the file cannot be imported at all ("" if it can).
	Problem string `json:"problem,omitempty"`
}

// DelimiterName says a delimiter in words.
func DelimiterName(d string) string {
	switch d {
	case ";":
		return "semicolon"
	case "\t":
		return "tab"
	}
	return "comma"
}

const (
	detectBytes   = 64 << 10
	sampleRows    = 2000
	sampleShown   = 5
	distinctLimit = 50
)

// detectEncoding looks at the start of a file and returns the encoding's
// name and a decoder for the whole file, or a problem.
func detectEncoding(head []byte) (string, transform.Transformer, string) {
	switch {
	case len(head) == 0:
		return "", nil, "The file is empty."
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return "UTF-8 (BOM)", xunicode.UTF8BOM.NewDecoder(), ""
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return "UTF-16LE", xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder(), ""
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "UTF-16BE", xunicode.UTF16(xunicode.BigEndian, xunicode.ExpectBOM).NewDecoder(), ""
	}
	// UTF-16 without a BOM: text with a NUL beside every ASCII byte.
	if len(head) >= 4 {
		evenNul, oddNul := 0, 0
		for i := 0; i+1 < len(head); i += 2 {
			if head[i] == 0 && head[i+1] != 0 {
				evenNul++
			}
			if head[i+1] == 0 && head[i] != 0 {
				oddNul++
			}
		}
		half := len(head) / 2
		if oddNul > half*8/10 {
			return "UTF-16LE", xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM).NewDecoder(), ""
		}
		if evenNul > half*8/10 {
			return "UTF-16BE", xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM).NewDecoder(), ""
		}
	}
	if binaryLooking(head) {
		return "", nil, "This does not look like a CSV file: it contains binary data. Export the spreadsheet as CSV and upload that."
	}
	valid := head
	if len(head) == detectBytes {
		// The cut may split a character.
		for i := 0; i < utf8.UTFMax && len(valid) > 0 && !utf8.Valid(valid); i++ {
			valid = valid[:len(valid)-1]
		}
	}
	if !utf8.Valid(valid) {
		return "Windows-1252", charmap.Windows1252.NewDecoder(), ""
	}
	return "UTF-8", transform.Nop, ""
}

// binaryLooking reports NUL bytes or many control characters.
func binaryLooking(b []byte) bool {
	ctrl := 0
	for _, c := range b {
		if c == 0 {
			return true
		}
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			ctrl++
		}
	}
	return ctrl > len(b)/100+2
}

// detectDelimiter counts , ; and tab outside quotes on the first lines and
// picks the one that occurs most often and most evenly.
func detectDelimiter(text string) string {
	lines := 0
	counts := map[rune][]int{',': nil, ';': nil, '\t': nil}
	inQuote := false
	cur := map[rune]int{}
	for _, r := range text {
		switch {
		case r == '"':
			inQuote = !inQuote
		case inQuote:
		case r == '\n':
			for d := range counts {
				counts[d] = append(counts[d], cur[d])
			}
			cur = map[rune]int{}
			lines++
		case r == ',' || r == ';' || r == '\t':
			cur[r]++
		}
		if lines >= 50 {
			break
		}
	}
	if len(cur) > 0 {
		for d := range counts {
			counts[d] = append(counts[d], cur[d])
		}
	}
	best, bestScore := ',', -1
	for _, d := range []rune{',', ';', '\t'} {
		score := 0
		for i, n := range counts[d] {
			if n == 0 {
				continue
			}
			score += n
			if i > 0 && n == counts[d][0] {
				score += n // a consistent count per line weighs double
			}
		}
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return string(best)
}

// importReader reads the records of a decoded file.
type importReader struct {
	r   *csv.Reader
	row int // records read after the header
}

func newImportReader(src io.Reader, dec transform.Transformer, delim string) *importReader {
	if dec == nil {
		dec = transform.Nop
	}
	cr := csv.NewReader(transform.NewReader(src, dec))
	cr.Comma = []rune(delim)[0]
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	return &importReader{r: cr}
}

// next returns the next record with its line number; a record the CSV
// syntax refuses comes back with a reason instead. io.EOF at the end.
func (ir *importReader) next() (rec []string, line int, reason string, err error) {
	rec, err = ir.r.Read()
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		msg := "The CSV syntax is broken here."
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			msg = "A quote is not closed, or a quote appears inside an unquoted cell."
		}
		return rec, pe.StartLine, msg, nil
	case err != nil:
		if errors.Is(err, io.EOF) {
			return nil, 0, "", io.EOF
		}
		if strings.Contains(err.Error(), "UTF-16") || errors.Is(err, transform.ErrShortSrc) {
			return nil, 0, "", fmt.Errorf("decode: %w", err)
		}
		return nil, 0, "", err
	}
	line, _ = ir.r.FieldPos(0)
	return rec, line, "", nil
}

// analyse reads the head of a file and a sample of its rows.
func analyse(kind string, head []byte, rest io.Reader) (ImportDetected, transform.Transformer) {
	enc, dec, problem := detectEncoding(head)
	d := ImportDetected{Encoding: enc, Problem: problem}
	if problem != "" {
		return d, nil
	}
	decodedHead, _, _ := transform.Bytes(dec, head)
	if enc == "UTF-16LE" || enc == "UTF-16BE" {
		// Binary data in a UTF-16 file shows after decoding.
		if binaryLooking(decodedHead) {
			d.Problem = "This does not look like a CSV file: it contains binary data."
			return d, nil
		}
	}
	d.Delimiter = detectDelimiter(string(decodedHead))
	ir := newImportReader(io.MultiReader(bytes.NewReader(head), rest), dec, d.Delimiter)
	header, _, reason, err := ir.next()
	switch {
	case errors.Is(err, io.EOF) || (err == nil && len(header) == 1 && strings.TrimSpace(header[0]) == ""):
		d.Problem = "The file is empty."
		return d, dec
	case err != nil:
		d.Problem = "The file could not be read as text in " + enc + "."
		return d, dec
	case reason != "":
		d.Problem = "The header line could not be read: " + reason
		return d, dec
	}
	for i := range header {
		header[i] = strings.TrimSpace(UnneutralizeCell(header[i]))
	}
	d.Header = header
	seen := map[string]int{}
	for i, h := range header {
		k := headerKey(h)
		if h == "" {
			d.Warnings = append(d.Warnings, fmt.Sprintf("Column %d has no header.", i+1))
			continue
		}
		if j, dup := seen[k]; dup {
			d.Warnings = append(d.Warnings, fmt.Sprintf("The header %q appears twice (columns %d and %d); only the first is mapped automatically.", h, j+1, i+1))
			continue
		}
		seen[k] = i
	}
	dates := make([]dateEvidence, len(header))
	distinct := make([]map[string]bool, len(header))
	d.Values = map[int][]string{}
	rows := 0
	for rows < sampleRows {
		rec, _, reason, err := ir.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				d.Warnings = append(d.Warnings, "Part of the file could not be decoded as "+enc+".")
			}
			break
		}
		rows++
		if reason != "" {
			continue
		}
		if len(d.Sample) < sampleShown {
			shown := make([]string, len(rec))
			for i, v := range rec {
				shown[i] = shorten(v, 80)
			}
			d.Sample = append(d.Sample, shown)
		}
		for i := 0; i < len(rec) && i < len(header); i++ {
			v := strings.TrimSpace(rec[i])
			if v == "" {
				continue
			}
			dates[i].add(v)
			if distinct[i] == nil {
				distinct[i] = map[string]bool{}
			}
			if len(distinct[i]) <= distinctLimit && len(v) <= 100 && !distinct[i][v] {
				distinct[i][v] = true
				d.Values[i] = append(d.Values[i], v)
			}
		}
	}
	if rows == 0 {
		d.Problem = "The file has a header line but no rows."
	}
	d.DateOrders = map[int]string{}
	for i, e := range dates {
		if o := e.order(); o != "" {
			d.DateOrders[i] = o
		}
	}
	for i, vs := range d.Values {
		if len(vs) > distinctLimit {
			d.Values[i] = nil // too many distinct values to map one by one
		}
	}
	return d, dec
}

// Dates

var (
	isoDate   = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$`)
	otherDate = regexp.MustCompile(`^(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{4})(?: .*)?$`)
)

type dateEvidence struct{ iso, dmy, mdy, either, other int }

func (e *dateEvidence) add(v string) {
	if isoDate.MatchString(v) {
		e.iso++
		return
	}
	m := otherDate.FindStringSubmatch(v)
	if m == nil {
		e.other++
		return
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[3])
	switch {
	case m[2] == ".":
		e.dmy++ // 15.03.2024 is day first wherever it is written
	case a > 12 && b <= 12:
		e.dmy++
	case b > 12 && a <= 12:
		e.mdy++
	default:
		e.either++
	}
}

func (e dateEvidence) order() string {
	total := e.iso + e.dmy + e.mdy + e.either
	if total == 0 || e.other > total {
		return ""
	}
	switch {
	case e.dmy > 0 && e.mdy > 0:
		return "mixed"
	case e.dmy > 0:
		return "dmy"
	case e.mdy > 0:
		return "mdy"
	case e.either > 0:
		return "ambiguous"
	}
	return "iso"
}

// parseImportDate reads ISO dates and, with order "dmy" or "mdy", dates
// written with / . or -.
func parseImportDate(v, order string) (time.Time, error) {
	var y, m, d int
	if g := isoDate.FindStringSubmatch(v); g != nil {
		y, _ = strconv.Atoi(g[1])
		m, _ = strconv.Atoi(g[2])
		d, _ = strconv.Atoi(g[3])
	} else if g := otherDate.FindStringSubmatch(v); g != nil {
		a, _ := strconv.Atoi(g[1])
		b, _ := strconv.Atoi(g[3])
		y, _ = strconv.Atoi(g[4])
		switch {
		case g[2] == "." || order == "dmy":
			d, m = a, b
		case order == "mdy":
			m, d = a, b
		default:
			return time.Time{}, errors.New("the date " + v + " could be day/month or month/day; choose the order on the mapping page")
		}
	} else {
		return time.Time{}, errors.New("the date " + v + " is not a date like 2024-03-15 or 15/03/2024")
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return time.Time{}, errors.New("the date " + v + " does not exist")
	}
	if !DayInRange(t) {
		return time.Time{}, fmt.Errorf("the date %s is not between %d and %d", v, MinDayYear, MaxDayYear)
	}
	return t, nil
}

// Money

var (
	groupedComma = regexp.MustCompile(`^\d{1,3}(,\d{3})+$`)
	groupedDot   = regexp.MustCompile(`^\d{1,3}(\.\d{3})+$`)
)

// parseImportAmount reads 1234.50, 1,234.50 and 1.234,50 (and 1 234,50 or
// 1'234.50) and returns minor units.
func parseImportAmount(v, currency string) (int64, error) {
	s := strings.TrimSpace(v)
	for _, sym := range []string{"€", "$", "£", "EUR", "USD", "GBP", "CHF", "eur", "usd", "gbp", "chf"} {
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, sym), sym))
	}
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "'", "").Replace(s)
	comma, dot := strings.LastIndex(s, ","), strings.LastIndex(s, ".")
	switch {
	case comma >= 0 && dot >= 0 && comma > dot: // 1.234,50
		s = strings.ReplaceAll(s[:comma], ".", "") + "." + s[comma+1:]
	case comma >= 0 && dot >= 0: // 1,234.50
		s = strings.ReplaceAll(s[:dot], ",", "") + s[dot:]
	case comma >= 0 && groupedComma.MatchString(s):
		s = strings.ReplaceAll(s, ",", "")
	case comma >= 0 && strings.Count(s, ",") == 1: // 12,5
		s = strings.Replace(s, ",", ".", 1)
	case dot >= 0 && strings.Count(s, ".") > 1 && groupedDot.MatchString(s): // 1.234.567
		s = strings.ReplaceAll(s, ".", "")
	case dot >= 0 && groupedDot.MatchString(s) && len(s)-dot-1 == 3: // 1.234
		s = strings.ReplaceAll(s, ".", "")
	}
	n, err := money.Parse(s, currency)
	if err != nil {
		return 0, fmt.Errorf("the amount %s %s", shorten(v, 40), err.Error())
	}
	return n, nil
}

// looksLikeFormula reports a cell a spreadsheet would run: =…, or +, - or
// @ followed by a function call. Neutralised cells ('=…) are text.
var formulaCall = regexp.MustCompile(`^[+\-@]\s*[A-Za-z_][A-Za-z0-9_.]*\(`)

func looksLikeFormula(v string) bool {
	return strings.HasPrefix(v, "=") || formulaCall.MatchString(v)
}

// FoldValue is how status, stage and owner values are compared: case and
// accents ignored, spaces trimmed.
func FoldValue(v string) string { return strings.Join(strings.Fields(fold(v)), " ") }
