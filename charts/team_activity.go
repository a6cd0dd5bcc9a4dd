package charts

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	chart "github.com/wcharczuk/go-chart/v2"

	"sherpa/money"
)

// MemberActivity is one team member's activities in the period.
type MemberActivity struct {
	Name string
	// Counts holds the number of activities by type ("note", "email",
	// "task", "task completed", "meeting"); types not passed to
	// TeamActivity are not drawn.
	Counts map[string]int
}

// maxMembers is how many members the team activity chart has room for.
const maxMembers = 5

// TeamActivity draws one stacked bar per member, a segment per activity type
// in the order of types, with the member's name under the bar, the total
// above it and a legend of the types. Members are ranked by total, most
// active first, and only the first five are drawn. When types is empty, the
// types found in the counts are used, in alphabetical order.
func TeamActivity(members []MemberActivity, types []string, opts ...Option) ([]byte, error) {
	cfg, err := newConfig("chart-team-activity", opts)
	if err != nil {
		return nil, err
	}
	pal := cfg.palette

	if len(types) == 0 {
		types = typesIn(members)
	}
	type ranked struct {
		name   string
		counts []int
		total  int
	}
	var rows []ranked
	for _, m := range members {
		r := ranked{name: displayLine(m.Name), counts: make([]int, len(types))}
		for i, t := range types {
			r.counts[i] = max(m.Counts[t], 0)
			r.total += r.counts[i]
		}
		rows = append(rows, r)
	}
	slices.SortStableFunc(rows, func(a, b ranked) int { return cmp.Compare(b.total, a.total) })
	rows = rows[:min(len(rows), maxMembers)]

	head := heading{title: "Team activity", subtitle: "Most active members last month"}
	for i, t := range types {
		head.legend = append(head.legend, legendItem{label: typeLabel(t), color: pal.color(i)})
	}
	descParts := make([]string, len(rows))
	top := 0
	for i, r := range rows {
		top = max(top, r.total)
		var byType []string
		for j, t := range types {
			if r.counts[j] > 0 {
				byType = append(byType, fmt.Sprintf("%d %s", r.counts[j], strings.ToLower(typeLabel(t))))
			}
		}
		descParts[i] = fmt.Sprintf("%s: %s %s", r.name, money.Thousands(int64(r.total)), plural(r.total, "activity", "activities"))
		if len(byType) > 0 {
			descParts[i] += " (" + strings.Join(byType, ", ") + ")"
		}
	}
	doc := document{title: head.title}
	if top == 0 {
		doc.desc = "No activities were logged last month."
		return emptyState(cfg, doc, head,
			"No activities logged last month",
			"Notes, emails, tasks and meetings will show here per member.")
	}
	doc.desc = "Activities per member last month, most active first. " + strings.Join(descParts, "; ") + "."

	measure, err := svgRenderer(chartWidth, chartHeight)
	if err != nil {
		return nil, err
	}
	p := cfg.pen(measure)
	// Names are cut to their slot; the canvas is the chart less the margins
	// and the value axis, about 40 wide.
	nameStyle := pal.labelText()
	slotW := (chartWidth-2*marginX-40)/len(rows) - 12
	names := make([]string, len(rows))
	totals := make([]float64, len(rows))
	for i, r := range rows {
		names[i] = p.fit(r.name, slotW, nameStyle)
		totals[i] = float64(r.total)
	}
	// Leave headroom above the tallest bar for its total.
	ticks := niceTicks(int64(top)*110/100+1, 4)
	c := barChartBase(cfg, len(rows), ticks, func(v int64) string { return money.Thousands(v) }, names)
	c.XAxis.Style.FontSize, c.XAxis.Style.FontColor = nameStyle.size, nameStyle.color

	base := make([]float64, len(rows))
	for j := range types {
		values := make([]float64, len(rows))
		topOf := make([]bool, len(rows))
		for i, r := range rows {
			values[i] = float64(r.counts[j])
			topOf[i] = r.counts[j] > 0 && slices.IndexFunc(r.counts[j+1:], func(n int) bool { return n > 0 }) < 0
		}
		c.Series = append(c.Series, barSeries{
			name: typeLabel(types[j]), color: pal.color(j),
			values: values, base: slices.Clone(base), topOf: topOf,
			groupSize: 1, slotFill: 0.5, maxBarWidth: 56, font: cfg.font,
		})
		for i := range rows {
			base[i] += values[i]
		}
	}
	c.Series = append(c.Series, barTotals{values: totals, style: pal.valueText(), font: cfg.font})
	c.Elements = []chart.Renderable{baseline(pal), head.renderable(cfg)}
	return renderChart(c, cfg, doc, chartWidth, chartHeight)
}

// typesIn lists the activity types found in the members' counts, sorted.
func typesIn(members []MemberActivity) []string {
	var types []string
	for _, m := range members {
		for t := range m.Counts {
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	slices.Sort(types)
	return types
}

// typeLabel turns an activity type into a legend label: "task completed" →
// "Task completed".
func typeLabel(t string) string {
	t = displayLine(t)
	r, size := utf8.DecodeRuneInString(t)
	if r == utf8.RuneError {
		return t
	}
	return string(unicode.ToUpper(r)) + t[size:]
}
