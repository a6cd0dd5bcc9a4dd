package charts

import (
	"math"

	"github.com/golang/freetype/truetype"
	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"

	"sherpa/money"
)

// go-chart's BarChart draws one value per bar and its StackedBarChart only
// 100 % stacks, so grouped (closed vs goal) and stacked (team activity) bars
// are drawn by barSeries, a chart.Series inside a chart.Chart: go-chart still
// lays out the canvas and draws the axes, ticks and grid lines.

// barSeries is one series of vertical bars. Bar i stands in slot i, which
// spans x from i to i+1; within a slot, grouped series sit side by side and
// stacked series sit on base[i].
type barSeries struct {
	name    string
	color   drawing.Color
	outline drawing.Color // when set, bars are outlined in it (reference values)
	values  []float64
	base    []float64 // stacked: what lies under bar i; nil when grouped
	topOf   []bool    // stacked: bar i is the top segment, so it gets round corners

	group, groupSize int     // grouped: this series' place in the group
	slotFill         float64 // share of the slot the bars fill
	maxBarWidth      int

	font *truetype.Font
}

var _ chart.Series = barSeries{}

func (s barSeries) GetName() string           { return s.name }
func (s barSeries) GetYAxis() chart.YAxisType { return chart.YAxisSecondary }
func (s barSeries) GetStyle() chart.Style     { return chart.Style{FillColor: s.color} }
func (s barSeries) Validate() error           { return nil }

// barBox returns the left and right edges of bar i.
func (s barSeries) barBox(canvas chart.Box, xr chart.Range, i int) (left, right int) {
	x0 := canvas.Left + xr.Translate(float64(i))
	x1 := canvas.Left + xr.Translate(float64(i+1))
	size := max(s.groupSize, 1)
	const gap = 3
	groupW := int(float64(x1-x0) * s.slotFill)
	barW := (groupW - gap*(size-1)) / size
	if s.maxBarWidth > 0 && barW > s.maxBarWidth {
		barW = s.maxBarWidth
	}
	groupW = barW*size + gap*(size-1)
	left = x0 + (x1-x0-groupW)/2 + s.group*(barW+gap)
	return left, left + barW
}

// Render draws the bars; go-chart calls it after the axes and grid lines.
func (s barSeries) Render(r chart.Renderer, canvas chart.Box, xr, yr chart.Range, _ chart.Style) {
	p := pen{r: r, font: s.font}
	for i, v := range s.values {
		if v <= 0 {
			continue
		}
		var base float64
		if s.base != nil {
			base = s.base[i]
		}
		left, right := s.barBox(canvas, xr, i)
		top := canvas.Bottom - yr.Translate(base+v)
		bottom := canvas.Bottom - yr.Translate(base)
		if base > 0 && bottom-top > 2 {
			bottom-- // a hairline of background between stacked segments
		}
		if bottom-top < 1 {
			top = bottom - 1 // a value too small to see still shows
		}
		radius := 0
		if s.base == nil || (s.topOf != nil && s.topOf[i]) {
			radius = 3
		}
		if s.outline.IsZero() {
			p.rect(left, top, right, bottom, s.color, radius, false)
		} else {
			// Keep the outline's outer half inside the bar's footprint
			// and off the baseline.
			p.outlined(left+1, top+1, right-1, bottom, s.color, s.outline, radius, false)
		}
	}
}

// barTotals writes each slot's total above its bar.
type barTotals struct {
	values []float64
	style  textStyle
	font   *truetype.Font
}

var _ chart.Series = barTotals{}

func (s barTotals) GetName() string           { return "totals" }
func (s barTotals) GetYAxis() chart.YAxisType { return chart.YAxisSecondary }
func (s barTotals) GetStyle() chart.Style     { return chart.Style{} }
func (s barTotals) Validate() error           { return nil }

func (s barTotals) Render(r chart.Renderer, canvas chart.Box, xr, yr chart.Range, _ chart.Style) {
	p := pen{r: r, font: s.font}
	for i, v := range s.values {
		x := canvas.Left + xr.Translate(float64(i)+0.5)
		y := canvas.Bottom - yr.Translate(v) - 7
		p.text(money.Thousands(int64(v)), x, y, withAlign(s.style, alignMiddle))
	}
}

// niceTicks returns axis ticks 0, step, 2·step, … up to the first tick at or
// above max, with about target steps of 1, 2, 2.5 or 5 times a power of ten.
// Ticks are whole numbers (minor units or counts), so steps are at least 1.
func niceTicks(max int64, target int) []int64 {
	if max < 1 {
		max = 1
	}
	raw := float64(max) / float64(target)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if s := m * mag; s >= raw && s == math.Trunc(s) {
			step = s
			break
		}
	}
	st := int64(math.Max(1, step))
	n := (max + st - 1) / st
	ticks := make([]int64, 0, n+1)
	for i := int64(0); i <= n; i++ {
		ticks = append(ticks, i*st)
	}
	return ticks
}

// barChartBase is a chart.Chart set up for bars in n slots with the value
// axis on the left, ticks at the given values, light grid lines and no axis
// lines; label formats a tick value. slotLabels are drawn under the slots.
func barChartBase(cfg config, n int, ticks []int64, label func(int64) string, slotLabels []string) chart.Chart {
	pal, font := cfg.palette, cfg.font
	invisible := drawing.Color{A: 0, R: 255, G: 255, B: 255}
	axis := pal.axisText()

	xTicks := []chart.Tick{{Value: 0}}
	for i, l := range slotLabels {
		xTicks = append(xTicks, chart.Tick{Value: float64(i) + 0.5, Label: l})
	}
	xTicks = append(xTicks, chart.Tick{Value: float64(n)})

	var yTicks []chart.Tick
	var grid []chart.GridLine
	for _, t := range ticks {
		yTicks = append(yTicks, chart.Tick{Value: float64(t), Label: label(t)})
		if t != 0 {
			grid = append(grid, chart.GridLine{Value: float64(t)})
		}
	}

	axisStyle := chart.Style{
		Font:        font,
		FontSize:    axis.size,
		FontColor:   axis.color,
		StrokeColor: invisible,
		StrokeWidth: 1,
	}
	return chart.Chart{
		Width:        chartWidth,
		Height:       chartHeight,
		DPI:          dpi,
		Font:         font,
		ColorPalette: pal,
		Background: chart.Style{
			Padding: chart.Box{Top: plotTop + 8, Left: marginX - 8, Right: marginX, Bottom: 12},
		},
		XAxis: chart.XAxis{
			Style: axisStyle,
			Ticks: xTicks,
		},
		// go-chart draws the primary y axis on the right; the series use the
		// secondary one, on the left. go-chart reads the secondary axis'
		// range from the primary axis' ticks, so both get the same ticks.
		YAxis: chart.YAxis{
			Style: chart.Hidden(),
			Ticks: yTicks,
		},
		YAxisSecondary: chart.YAxis{
			Style:          axisStyle,
			Ticks:          yTicks,
			GridLines:      grid,
			GridMajorStyle: chart.Style{StrokeColor: pal.grid, StrokeWidth: 1},
			GridMinorStyle: chart.Style{StrokeColor: pal.grid, StrokeWidth: 1},
		},
	}
}

// baseline draws the zero line of a bar chart over the bars' feet.
func baseline(pal palette) chart.Renderable {
	return func(r chart.Renderer, canvas chart.Box, _ chart.Style) {
		pen{r: r}.line(canvas.Left, canvas.Bottom, canvas.Right, canvas.Bottom, pal.baseline, 1)
	}
}
