package charts

import (
	"fmt"
	"math"
	"strings"

	chart "github.com/wcharczuk/go-chart/v2"

	"sherpa/money"
)

// StageAmount is one slice of the forecast: the sum of the amounts of the
// deals in a stage, in minor units of the team currency.
type StageAmount struct {
	Stage  string
	Amount int64
}

// Forecast draws a pie with one slice per stage with a positive amount, in
// the order given, and a legend with each stage's amount and share. The
// title gives the total of all amounts, e.g. "Forecast this month:
// €12,345.00". A stage keeps its colour whatever the other stages hold.
func Forecast(stages []StageAmount, currency string, opts ...Option) ([]byte, error) {
	cfg, err := newConfig("chart-forecast", opts)
	if err != nil {
		return nil, err
	}
	pal := cfg.palette

	var shares []forecastSlice
	var total, positive int64
	for i, s := range stages {
		total += s.Amount
		if s.Amount > 0 {
			shares = append(shares, forecastSlice{stage: displayLine(s.Stage), amount: s.Amount, color: i})
			positive += s.Amount
		}
	}

	head := heading{
		title:    "Forecast this month: " + money.Format(total, currency),
		subtitle: "Deals closing this month, by stage",
	}
	doc := document{title: head.title}
	if len(shares) == 0 {
		doc.desc = "No deals are expected to close this month."
		return emptyState(cfg, doc, head,
			"No deals expected to close this month",
			"Deals with a close date this month will show here by stage.")
	}
	// The pie fills a square on the left; the legend takes the rest.
	const pieTop, pieBottom, diameter = plotTop + 8, 24, 240
	const pieLeft = marginX + 8
	const legendLeft = pieLeft + diameter + 40

	values := make([]chart.Value, len(shares))
	descParts := make([]string, len(shares))
	for i, s := range shares {
		values[i] = chart.Value{Value: float64(s.amount), Style: chart.Style{FillColor: pal.color(s.color)}}
		descParts[i] = fmt.Sprintf("%s %s (%s)", s.stage, money.Format(s.amount, currency), percent(s.amount, positive))
	}
	doc.desc = "Amount of deals closing this month, by stage: " + strings.Join(descParts, "; ") + "."

	pie := chart.PieChart{
		Width:        chartWidth,
		Height:       chartHeight,
		DPI:          dpi,
		Font:         cfg.font,
		ColorPalette: pal,
		Background: chart.Style{Padding: chart.Box{
			Top: pieTop, Left: pieLeft, Bottom: pieBottom,
			Right: chartWidth - pieLeft - diameter,
		}},
		SliceStyle: chart.Style{StrokeColor: pal.background, StrokeWidth: 2},
		Values:     values,
		Elements: []chart.Renderable{func(r chart.Renderer, pieBox chart.Box, _ chart.Style) {
			p := cfg.pen(r)
			head.draw(p, pal, chartWidth)
			drawSliceLabels(p, pal, pieBox, shares, positive)
			drawForecastLegend(p, pal, legendLeft, pieTop+diameter/2, shares, positive, currency)
		}},
	}
	return renderChartWith(pie, noonArcs, cfg, doc, chartWidth, chartHeight)
}

// noonArcs is a renderer for go-chart's PieChart whose slices start at
// twelve o'clock, as readers expect, instead of three.
func noonArcs(width, height int) (chart.Renderer, error) {
	r, err := svgRenderer(width, height)
	return arcsFromNoon{r}, err
}

type arcsFromNoon struct{ chart.Renderer }

func (a arcsFromNoon) ArcTo(cx, cy int, rx, ry, startAngle, delta float64) {
	a.Renderer.ArcTo(cx, cy, rx, ry, chart.RadianAdd(startAngle, 1.5*math.Pi), delta)
}

// drawSliceLabels writes each slice's share inside it, in white or dark
// text, whichever contrasts more with the slice; slices too thin for a label
// are left to the legend.
func drawSliceLabels(p pen, pal palette, pieBox chart.Box, slices []forecastSlice, total int64) {
	cx, cy := pieBox.Center()
	radius := float64(min(pieBox.Width(), pieBox.Height())) / 2
	var done float64
	for _, s := range slices {
		share := float64(s.amount) / float64(total)
		mid := 2 * math.Pi * (done + share/2)
		done += share
		if share < 0.06 {
			continue
		}
		x, y := chart.CirclePoint(cx, cy, radius*0.64, mid)
		if len(slices) == 1 {
			x, y = cx, cy
		}
		ts := pal.valueText()
		ts.color, ts.align = pal.textOn(pal.color(s.color)), alignMiddle
		p.text(percent(s.amount, total), x, y+4, ts)
	}
}

type forecastSlice struct {
	stage  string
	amount int64
	color  int // palette index: the stage's place in the input, so a stage keeps its colour
}

// drawForecastLegend draws a small table centred on y: a swatch and the
// stage, its amount and its share, then a total row.
func drawForecastLegend(p pen, pal palette, left, y int, slices []forecastSlice, total int64, currency string) {
	const rowH, swatch = 28, 10
	right := chartWidth - marginX
	label, value, share := pal.labelText(), pal.labelText(), pal.subtitleText()
	value.color = pal.title
	pctRight := right
	amountRight := right - p.width("100%", share) - 16

	amountW := p.width(money.Format(total, currency), value)
	for _, s := range slices {
		amountW = max(amountW, p.width(money.Format(s.amount, currency), value))
	}
	nameLeft := left + swatch + 8
	nameMax := amountRight - amountW - 16 - nameLeft

	rows := len(slices) + 1
	top := y - rows*rowH/2
	for i, s := range slices {
		base := top + i*rowH + rowH/2 + 4
		p.rect(left, base-swatch, left+swatch, base, pal.color(s.color), 2, true)
		p.text(p.fit(s.stage, nameMax, label), nameLeft, base, label)
		p.text(money.Format(s.amount, currency), amountRight, base, withAlign(value, alignEnd))
		p.text(percent(s.amount, total), pctRight, base, withAlign(share, alignEnd))
	}
	sep := top + len(slices)*rowH + 4
	p.line(left, sep, right, sep, pal.grid, 1)
	base := sep + rowH/2 + 4
	bold := pal.valueText()
	p.text("Total", nameLeft, base, bold)
	p.text(money.Format(total, currency), amountRight, base, withAlign(bold, alignEnd))
	p.text("100%", pctRight, base, withAlign(share, alignEnd))
}

func withAlign(ts textStyle, a align) textStyle {
	ts.align = a
	return ts
}

// percent is n/d as a whole percentage: "60%", "<1%" for a small non-zero
// share, and "–" when d is zero.
func percent(n, d int64) string {
	if d == 0 {
		return "–"
	}
	pct := math.Round(100 * float64(n) / float64(d))
	if pct == 0 && n > 0 {
		return "<1%"
	}
	return fmt.Sprintf("%.0f%%", pct)
}
