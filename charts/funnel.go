package charts

import (
	"fmt"
	"strings"

	"sherpa/money"
)

// FunnelStage is one bar of the stage funnel: the number of deals that
// reached the stage, or a later one, in the period.
type FunnelStage struct {
	Stage string
	Count int
}

// Funnel draws one horizontal bar per stage, in the order given (first stage
// first), each labelled with its stage and count; each bar but the last also
// shows the next-step conversion n(next)/n(stage) and the cumulative
// conversion n(next)/n(first stage), as whole percentages ("–" when the
// denominator is zero).
func Funnel(stages []FunnelStage, opts ...Option) ([]byte, error) {
	cfg, err := newConfig("chart-funnel", opts)
	if err != nil {
		return nil, err
	}
	pal := cfg.palette
	rows := funnelRows(stages)

	head := heading{title: "Stage funnel", subtitle: "Deals that reached each stage last month"}
	doc := document{title: head.title, desc: funnelDesc(rows)}

	top := 0
	for _, r := range rows {
		top = max(top, r.count)
	}
	if top == 0 {
		return emptyState(cfg, doc, head,
			"No deals moved through the pipeline last month",
			"Deals that reach a stage will show here, stage by stage.")
	}

	// go-chart has no horizontal bar chart, so the funnel is drawn with its
	// renderer directly: a table of stage | bar | next step | cumulative.
	const headerBase = plotTop + 12
	const bodyTop = headerBase + 12
	rowH := max(24, min(48, (chartHeight-16-bodyTop)/len(rows)))
	height := max(chartHeight, bodyTop+len(rows)*rowH+16) // many stages: grow rather than overlap

	return drawSVG(cfg, doc, chartWidth, height, func(p pen) {
		head.draw(p, pal, chartWidth)
		label, axis, count := pal.labelText(), pal.axisText(), pal.valueText()

		right := chartWidth - marginX
		cumRight := right
		nextRight := cumRight - 84
		barRight := nextRight - 64 - 16

		nameW := 0
		for _, r := range rows {
			nameW = max(nameW, p.width(r.stage, label))
		}
		nameW = min(nameW, 150)
		barLeft := marginX + nameW + 14

		p.text("Next step", nextRight, headerBase, withAlign(axis, alignEnd))
		p.text("Cumulative", cumRight, headerBase, withAlign(axis, alignEnd))
		p.line(marginX, headerBase+8, right, headerBase+8, pal.grid, 1)

		barH := min(24, rowH*3/5)
		for i, r := range rows {
			mid := bodyTop + i*rowH + rowH/2
			base := mid + 4
			p.text(p.fit(r.stage, nameW, label), barLeft-14, base, withAlign(label, alignEnd))

			barTop, barBottom := mid-barH/2, mid-barH/2+barH
			p.rect(barLeft, barTop, barRight, barBottom, pal.track, 4, true)
			w := (barRight - barLeft) * r.count / top
			color := pal.color(0)
			if w > 0 {
				p.rect(barLeft, barTop, barLeft+max(w, 2), barBottom, color, 4, true)
			}
			// The count sits inside the bar's end when it fits, else after it.
			text := money.Thousands(int64(r.count))
			tw := p.width(text, count) + 16
			if w >= tw {
				ts := withAlign(count, alignEnd)
				ts.color = pal.textOn(color)
				p.text(text, barLeft+w-8, base, ts)
			} else {
				p.text(text, barLeft+w+6, base, count)
			}

			if i < len(rows)-1 {
				p.text(r.next, nextRight, base, withAlign(label, alignEnd))
				p.text(r.cumulative, cumRight, base, withAlign(label, alignEnd))
			}
		}
	})
}

// funnelRow is one stage of the funnel with its conversions to the next
// stage, already formatted.
type funnelRow struct {
	stage            string
	count            int
	next, cumulative string // empty for the last stage
}

func funnelRows(stages []FunnelStage) []funnelRow {
	rows := make([]funnelRow, len(stages))
	for i, s := range stages {
		rows[i] = funnelRow{stage: displayLine(s.Stage), count: max(s.Count, 0)}
	}
	for i := 0; i < len(rows)-1; i++ {
		next := int64(rows[i+1].count)
		rows[i].next = percent(next, int64(rows[i].count))
		rows[i].cumulative = percent(next, int64(rows[0].count))
	}
	return rows
}

func funnelDesc(rows []funnelRow) string {
	if len(rows) == 0 {
		return "No stages to show."
	}
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = fmt.Sprintf("%s: %s %s", r.stage, money.Thousands(int64(r.count)), plural(r.count, "deal", "deals"))
		if i < len(rows)-1 {
			parts[i] += fmt.Sprintf(", %s to the next stage, %s cumulative", r.next, r.cumulative)
		}
	}
	return "Deals that reached each stage or a later one last month. " + strings.Join(parts, "; ") + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
