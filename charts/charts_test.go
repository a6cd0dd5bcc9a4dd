package charts

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPercent(t *testing.T) {
	tests := []struct {
		n, d int64
		want string
	}{
		{6, 10, "60%"},
		{1, 3, "33%"},
		{2, 3, "67%"},
		{3, 3, "100%"},
		{0, 5, "0%"},
		{1, 1000, "<1%"},
		{0, 0, "–"},
		{3, 0, "–"},
	}
	for _, tt := range tests {
		if got := percent(tt.n, tt.d); got != tt.want {
			t.Errorf("percent(%d, %d) = %q, want %q", tt.n, tt.d, got, tt.want)
		}
	}
}

func TestNiceTicksAreRoundAndCoverTheMaximum(t *testing.T) {
	tests := []struct {
		max    int64
		target int
		want   []int64
	}{
		{2210000, 5, []int64{0, 500000, 1000000, 1500000, 2000000, 2500000}},
		{64, 4, []int64{0, 20, 40, 60, 80}},
		{7, 4, []int64{0, 2, 4, 6, 8}},
		{1, 4, []int64{0, 1}},
		{0, 4, []int64{0, 1}},
		{13, 5, []int64{0, 5, 10, 15}},
	}
	for _, tt := range tests {
		if got := niceTicks(tt.max, tt.target); !slices.Equal(got, tt.want) {
			t.Errorf("niceTicks(%d, %d) = %v, want %v", tt.max, tt.target, got, tt.want)
		}
	}
}

// allCharts draws every chart, with data and empty, for the tests that hold
// for all of them.
func allCharts() map[string]func() ([]byte, error) {
	return map[string]func() ([]byte, error){
		"closed vs goal":       func() ([]byte, error) { return ClosedVsGoal(sampleMonths(), "EUR") },
		"closed vs goal large": func() ([]byte, error) { return ClosedVsGoal(sampleMonthsLarge(), "USD") },
		"closed vs goal empty": func() ([]byte, error) { return ClosedVsGoal(nil, "EUR") },
		"forecast":             func() ([]byte, error) { return Forecast(sampleForecast(), "EUR") },
		"forecast odd input":   func() ([]byte, error) { return Forecast(sampleForecastSmall(), "USD") },
		"forecast one stage":   func() ([]byte, error) { return Forecast([]StageAmount{{"Created", 500}}, "GBP") },
		"forecast empty":       func() ([]byte, error) { return Forecast(nil, "EUR") },
		"funnel":               func() ([]byte, error) { return Funnel(sampleFunnel()) },
		"funnel long names": func() ([]byte, error) {
			return Funnel([]FunnelStage{{"Created", 3}, {"A stage with a name far too long to fit in its column", 2}, {"Won", 1}})
		},
		"funnel empty":        func() ([]byte, error) { return Funnel(nil) },
		"team activity":       func() ([]byte, error) { return TeamActivity(sampleMembers(), activityTypes) },
		"team activity one":   func() ([]byte, error) { return TeamActivity(sampleMembers()[:1], nil) },
		"team activity empty": func() ([]byte, error) { return TeamActivity(nil, activityTypes) },
	}
}

func TestChartsAreScalableLabelledSVG(t *testing.T) {
	for name, draw := range allCharts() {
		t.Run(name, func(t *testing.T) {
			svg, err := draw()
			if err != nil {
				t.Fatal(err)
			}
			doc := parseSVG(t, svg)

			if got := doc.root["viewBox"]; got != "0 0 640 360" {
				t.Errorf("viewBox = %q, want %q", got, "0 0 640 360")
			}
			if got := doc.root["width"]; got != "100%" {
				t.Errorf("width = %q, want 100%%", got)
			}
			if h, ok := doc.root["height"]; ok {
				t.Errorf("root has a fixed height %q; it must follow the width", h)
			}
			if got := doc.root["role"]; got != "img" {
				t.Errorf("role = %q, want img", got)
			}
			if len(doc.children) < 2 || doc.children[0].Name.Local != "title" || doc.children[1].Name.Local != "desc" {
				t.Fatalf("the first children must be <title> then <desc>, got %v", doc.children[:min(2, len(doc.children))])
			}
			titleID, descID := attr(doc.children[0], "id"), attr(doc.children[1], "id")
			if titleID == "" || descID == "" {
				t.Fatal("<title> and <desc> need ids")
			}
			if got, want := doc.root["aria-labelledby"], titleID+" "+descID; got != want {
				t.Errorf("aria-labelledby = %q, want %q", got, want)
			}
			if strings.TrimSpace(doc.title) == "" || strings.TrimSpace(doc.desc) == "" {
				t.Errorf("title %q and desc %q must not be empty", doc.title, doc.desc)
			}
			if !doc.hasText(doc.title) {
				t.Errorf("the title %q is not drawn; texts: %q", doc.title, doc.texts)
			}
			for _, bad := range []string{"<script", "style=", "\uE000", "\uE001"} {
				if strings.Contains(string(svg), bad) {
					t.Errorf("SVG contains %q", bad)
				}
			}
			for _, text := range doc.texts {
				if strings.TrimSpace(text) == "" {
					t.Errorf("empty <text> element")
				}
			}
		})
	}
}

func TestChartIDsDifferPerChartAndCanBeSet(t *testing.T) {
	seen := map[string]string{}
	for name, draw := range map[string]func() ([]byte, error){
		"closed vs goal": func() ([]byte, error) { return ClosedVsGoal(sampleMonths(), "EUR") },
		"forecast":       func() ([]byte, error) { return Forecast(sampleForecast(), "EUR") },
		"funnel":         func() ([]byte, error) { return Funnel(sampleFunnel()) },
		"team activity":  func() ([]byte, error) { return TeamActivity(sampleMembers(), activityTypes) },
	} {
		svg, err := draw()
		if err != nil {
			t.Fatal(err)
		}
		for id := range parseSVG(t, svg).ids {
			if other, ok := seen[id]; ok {
				t.Errorf("id %q is used by %s and %s", id, other, name)
			}
			seen[id] = name
		}
	}

	svg, err := Funnel(sampleFunnel(), WithID("2nd funnel <b>"))
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	if !doc.ids["c-2nd-funnel--b--title"] || !doc.ids["c-2nd-funnel--b--desc"] {
		t.Errorf("WithID: ids = %v", doc.ids)
	}
}

func TestForecastTitleGivesTheTotal(t *testing.T) {
	svg, err := Forecast(sampleForecast(), "EUR")
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	const want = "Forecast this month: €12,444.50"
	if doc.title != want {
		t.Errorf("title = %q, want %q", doc.title, want)
	}
	if !doc.hasText(want) {
		t.Errorf("visible title %q missing; texts: %q", want, doc.texts)
	}
	// Each stage is in the legend with its amount and share.
	for _, s := range []string{"Qualified To Buy", "€3,150.50", "25%", "Appointment Scheduled", "€1,415.00", "11%"} {
		if !doc.hasText(s) {
			t.Errorf("legend lacks %q; texts: %q", s, doc.texts)
		}
	}
}

func TestForecastLeavesOutStagesWithoutAmount(t *testing.T) {
	svg, err := Forecast(sampleForecastSmall(), "USD")
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	if doc.hasText("Qualified To Buy") {
		t.Error("a stage with a zero amount has a slice")
	}
	if !doc.hasText("<1%") {
		t.Errorf("a tiny share should read <1%%; texts: %q", doc.texts)
	}
	if want := "Forecast this month: $16,023.54"; doc.title != want {
		t.Errorf("title = %q, want %q", doc.title, want)
	}
}

func TestFunnelConversions(t *testing.T) {
	tests := []struct {
		name             string
		counts           []int
		next, cumulative []string
	}{
		{"narrowing", []int{10, 6, 3, 3, 1},
			[]string{"60%", "50%", "100%", "33%", ""},
			[]string{"60%", "30%", "30%", "10%", ""}},
		{"a stage nobody reached", []int{4, 0, 0},
			[]string{"0%", "–", ""},
			[]string{"0%", "0%", ""}},
		{"first stage empty", []int{0, 2},
			[]string{"–", ""},
			[]string{"–", ""}},
		{"one stage", []int{7}, []string{""}, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stages []FunnelStage
			for i, n := range tt.counts {
				stages = append(stages, FunnelStage{Stage: string(rune('A' + i)), Count: n})
			}
			rows := funnelRows(stages)
			for i, r := range rows {
				if r.next != tt.next[i] || r.cumulative != tt.cumulative[i] {
					t.Errorf("stage %s: next %q cumulative %q, want %q %q", r.stage, r.next, r.cumulative, tt.next[i], tt.cumulative[i])
				}
			}
		})
	}
}

func TestFunnelDrawsStagesCountsAndConversions(t *testing.T) {
	stages := []FunnelStage{
		{"Created", 10}, {"Qualified To Buy", 6}, {"Contract Sent", 3},
		{"Appointment Scheduled", 3}, {"Closed Won", 1},
	}
	svg, err := Funnel(stages)
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	// Row by row: stage, count, next step, cumulative; the last row has no
	// conversions.
	want := []string{
		"Created", "10", "60%", "60%",
		"Qualified To Buy", "6", "50%", "30%",
		"Contract Sent", "3", "100%", "30%",
		"Appointment Scheduled", "3", "33%", "10%",
		"Closed Won", "1",
	}
	i := slices.Index(doc.texts, "Created")
	if i < 0 || len(doc.texts) != i+len(want) || !slices.Equal(doc.texts[i:], want) {
		t.Errorf("funnel texts = %q, want them to end with %q", doc.texts, want)
	}
	if !strings.Contains(doc.desc, "Qualified To Buy: 6 deals, 50% to the next stage, 30% cumulative") {
		t.Errorf("desc = %q", doc.desc)
	}
}

func TestTeamActivityNamesMembers(t *testing.T) {
	svg, err := TeamActivity(sampleMembers(), activityTypes)
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	for _, name := range []string{"Ana Silva", "Chidi Okonkwo", "李小龍"} {
		if !doc.hasText(name) {
			t.Errorf("member %q missing; texts: %q", name, doc.texts)
		}
	}
	// A long name is cut with an ellipsis under its bar, whole in the desc.
	var cut string
	for _, s := range doc.texts {
		if strings.HasPrefix(s, "Zoë Mü") {
			cut = s
		}
	}
	if !strings.HasSuffix(cut, "…") {
		t.Errorf("long name drawn as %q, want it cut with an ellipsis", cut)
	}
	if !strings.Contains(doc.desc, "Zoë Müller-Lüdenscheidt: 64 activities") {
		t.Errorf("desc = %q", doc.desc)
	}
	// Markup in a name is text, never markup.
	if strings.Contains(string(svg), "<script") {
		t.Error("a name was written unescaped")
	}
	if !strings.Contains(doc.desc, "Bob <script>alert(1)</script> & Co") {
		t.Errorf("escaped name did not round-trip: %q", doc.desc)
	}
	// Five members at most: the least active of six is left out.
	if strings.Contains(doc.desc, "Quiet Quentin") || doc.hasText("Quiet Quentin") {
		t.Error("a sixth member was drawn")
	}
	for _, label := range []string{"Note", "Email", "Task", "Task completed", "Meeting", "64"} {
		if !doc.hasText(label) {
			t.Errorf("legend or total %q missing", label)
		}
	}
}

func TestClosedVsGoalAxes(t *testing.T) {
	svg, err := ClosedVsGoal(sampleMonths(), "EUR")
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	for _, s := range []string{"€0", "€10k", "€25k", "Apr", "Mar", "2024", "2025", "Closed won", "Goal"} {
		if !doc.hasText(s) {
			t.Errorf("%q missing; texts: %q", s, doc.texts)
		}
	}
	if !strings.Contains(doc.desc, "Sep 2024: closed €11,050.50, goal €15,000.00") {
		t.Errorf("desc = %q", doc.desc)
	}
}

func TestEmptyStatesSayWhy(t *testing.T) {
	zeroMonths := sampleMonths()
	for i := range zeroMonths {
		zeroMonths[i].Closed, zeroMonths[i].Goal = 0, 0
	}
	tests := []struct {
		name    string
		draw    func() ([]byte, error)
		message string
	}{
		{"closed vs goal, no months", func() ([]byte, error) { return ClosedVsGoal(nil, "EUR") }, "No deals closed in the last 12 months"},
		{"closed vs goal, all zero", func() ([]byte, error) { return ClosedVsGoal(zeroMonths, "EUR") }, "No deals closed in the last 12 months"},
		{"forecast, no stages", func() ([]byte, error) { return Forecast(nil, "EUR") }, "No deals expected to close this month"},
		{"forecast, all zero", func() ([]byte, error) { return Forecast([]StageAmount{{"Created", 0}, {"Closed Won", 0}}, "EUR") }, "No deals expected to close this month"},
		{"funnel, no stages", func() ([]byte, error) { return Funnel(nil) }, "No deals moved through the pipeline last month"},
		{"funnel, all zero", func() ([]byte, error) { return Funnel([]FunnelStage{{"Created", 0}, {"Closed Won", 0}}) }, "No deals moved through the pipeline last month"},
		{"team activity, nobody", func() ([]byte, error) { return TeamActivity(nil, activityTypes) }, "No activities logged last month"},
		{"team activity, all zero", func() ([]byte, error) {
			return TeamActivity([]MemberActivity{{Name: "Ana", Counts: map[string]int{"note": 0}}}, activityTypes)
		}, "No activities logged last month"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg, err := tt.draw()
			if err != nil {
				t.Fatal(err)
			}
			doc := parseSVG(t, svg)
			if !doc.hasText(tt.message) {
				t.Errorf("empty state lacks %q; texts: %q", tt.message, doc.texts)
			}
			if doc.root["viewBox"] != "0 0 640 360" {
				t.Errorf("viewBox = %q", doc.root["viewBox"])
			}
		})
	}
}

func TestPaletteIsReadableOnTheBackground(t *testing.T) {
	p := sherpaPalette()
	for i, c := range p.series {
		if r := contrast(c, p.background); r < 3 {
			t.Errorf("series colour %d (%v) has contrast %.2f with the background, want ≥ 3", i, c, r)
		}
		if r := contrast(c, p.textOn(c)); r < 4.5 {
			t.Errorf("text on series colour %d has contrast %.2f, want ≥ 4.5", i, r)
		}
	}
	for name, c := range map[string]struct{ fg, want float64 }{
		"title": {contrast(p.title, p.background), 4.5},
		"text":  {contrast(p.text, p.background), 4.5},
		"muted": {contrast(p.muted, p.background), 4.5},
	} {
		if c.fg < c.want {
			t.Errorf("%s text contrast %.2f, want ≥ %.1f", name, c.fg, c.want)
		}
	}
}

func TestCleanText(t *testing.T) {
	tests := map[string]string{
		"  Zoë \t Müller\n": "Zoë Müller",
		"a\x00b":            "a b",
		"hint\uE000x\uE001": "hintx",
		"bad \xff utf8":     "bad \uFFFD utf8",
		"<b>&amp;</b>":      "<b>&amp;</b>",
	}
	for in, want := range tests {
		if got := displayLine(in); got != want {
			t.Errorf("displayLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWriteSamples writes every chart for sample data, and its empty state,
// so a person can look at them in a browser: to testdata/out when
// CHARTS_WRITE=1, else to a temporary folder (so the drawing still runs).
func TestWriteSamples(t *testing.T) {
	dir := t.TempDir()
	if os.Getenv("CHARTS_WRITE") == "1" {
		dir = filepath.Join("testdata", "out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, draw := range allCharts() {
		svg, err := draw()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		file := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".svg")
		if err := os.WriteFile(file, svg, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
