package charts

import (
	"bytes"
	"io"

	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
)

// Page geometry shared by the charts, in viewBox units.
const (
	marginX      = 24 // left and right margin of the heading and plot
	titleBase    = 28 // baseline of the heading
	subtitleBase = 49 // baseline of the line under the heading
	plotTop      = 74 // where plots start, below the heading
)

// Text sizes shared by the charts.
//
// The SVG scales with its card: at 640 units drawn in a 500 px card, 12 units
// are about 9.5 px, the smallest text worth drawing.
func (p palette) titleText() textStyle    { return textStyle{size: 16, color: p.title, bold: true} }
func (p palette) subtitleText() textStyle { return textStyle{size: 13, color: p.muted} }
func (p palette) labelText() textStyle    { return textStyle{size: 13, color: p.text} }
func (p palette) axisText() textStyle     { return textStyle{size: 12, color: p.muted} }
func (p palette) valueText() textStyle    { return textStyle{size: 13, color: p.title, bold: true} }

// heading is the top of every chart: a title, a line under it, and a legend
// on the title's row, right-aligned.
type heading struct {
	title    string
	subtitle string
	legend   []legendItem
}

type legendItem struct {
	label   string
	color   drawing.Color
	outline drawing.Color // optional, as for the series it names
}

func (h heading) draw(p pen, pal palette, width int) {
	p.text(h.title, marginX, titleBase, pal.titleText())
	if h.subtitle != "" {
		p.text(h.subtitle, marginX, subtitleBase, pal.subtitleText())
	}
	h.drawLegend(p, pal, width)
}

// renderable draws the heading as an element of a go-chart chart.
func (h heading) renderable(cfg config) chart.Renderable {
	return func(r chart.Renderer, _ chart.Box, _ chart.Style) {
		h.draw(cfg.pen(r), cfg.palette, chartWidth)
	}
}

// drawLegend lays the legend out right-aligned on the title's row or, when
// it does not fit there, on the subtitle's. Labels are drawn start-anchored
// after their swatch: if the browser's font is a little wider than the one
// measured, a label grows into the space before the next item, not over its
// own swatch.
func (h heading) drawLegend(p pen, pal palette, width int) {
	const swatch, gap, spacing = 10, 6, 18
	ts := pal.labelText()
	widths := make([]int, len(h.legend))
	total := 0
	for i, it := range h.legend {
		widths[i] = p.width(it.label, ts)
		total += swatch + gap + widths[i] + spacing
	}
	base := titleBase
	if width-marginX-total < marginX+p.width(h.title, pal.titleText())+24 {
		base = subtitleBase
	}
	x := width - marginX - total + spacing
	for i, it := range h.legend {
		if it.outline.IsZero() {
			p.rect(x, base-swatch, x+swatch, base, it.color, 2, true)
		} else {
			p.outlined(x+1, base-swatch+1, x+swatch-1, base-1, it.color, it.outline, 2, true)
		}
		p.text(it.label, x+swatch+gap, base-1, ts)
		x += swatch + gap + widths[i] + spacing
	}
}

// drawSVG draws a chart by hand on go-chart's SVG renderer: used for the
// funnel (go-chart only has vertical bars) and for empty states.
func drawSVG(cfg config, doc document, width, height int, draw func(p pen)) ([]byte, error) {
	r, err := svgRenderer(width, height)
	if err != nil {
		return nil, err
	}
	p := cfg.pen(r)
	p.rect(0, 0, width, height, cfg.palette.background, 0, false)
	draw(p)
	var buf bytes.Buffer
	if err := r.Save(&buf); err != nil {
		return nil, err
	}
	return finish(buf.Bytes(), width, height, cfg, doc)
}

// goChart is any of go-chart's charts.
type goChart interface {
	Render(chart.RendererProvider, io.Writer) error
}

// renderChart renders one of go-chart's charts and finishes its SVG.
func renderChart(c goChart, cfg config, doc document, width, height int) ([]byte, error) {
	return renderChartWith(c, svgRenderer, cfg, doc, width, height)
}

func renderChartWith(c goChart, rp chart.RendererProvider, cfg config, doc document, width, height int) ([]byte, error) {
	var buf bytes.Buffer
	if err := c.Render(rp, &buf); err != nil {
		return nil, err
	}
	return finish(buf.Bytes(), width, height, cfg, doc)
}

// emptyState draws the chart's heading and, centred below it, a message
// saying why there is nothing to show and what would appear.
func emptyState(cfg config, doc document, h heading, message, hint string) ([]byte, error) {
	h.legend = nil
	return drawSVG(cfg, doc, chartWidth, chartHeight, func(p pen) {
		pal := cfg.palette
		h.draw(p, pal, chartWidth)
		cx := chartWidth / 2
		cy := plotTop + (chartHeight-plotTop)/2 - 10
		// A faint bar-chart glyph above the message.
		for i, bh := range []int{18, 30, 24} {
			left := cx - 25 + i*18
			p.rect(left, cy-30-bh, left+12, cy-30, pal.grid, 2, false)
		}
		p.text(message, cx, cy, textStyle{size: 15, color: pal.text, bold: true, align: alignMiddle})
		if hint != "" {
			p.text(hint, cx, cy+22, textStyle{size: 13, color: pal.muted, align: alignMiddle})
		}
	})
}
