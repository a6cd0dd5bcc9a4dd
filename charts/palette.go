package charts

import (
	"math"

	"github.com/wcharczuk/go-chart/v2/drawing"
)

// palette is the one set of colours every chart is drawn with.
type palette struct {
	// series colours, in order; each has at least 3:1 contrast with the
	// white background, and neighbours differ in hue and lightness.
	series []drawing.Color

	background drawing.Color
	title      drawing.Color // headings and emphasised numbers
	text       drawing.Color // labels
	muted      drawing.Color // axis labels, secondary text (4.5:1 on white)
	grid       drawing.Color // grid lines
	baseline   drawing.Color // the zero line of an axis
	track      drawing.Color // the empty part of a bar
	goal       drawing.Color // fill of the outlined reference bars of closed vs goal
}

func sherpaPalette() palette {
	hex := drawing.ColorFromHex
	return palette{
		series: []drawing.Color{
			hex("4f46e5"), // indigo
			hex("d97706"), // amber
			hex("0d9488"), // teal
			hex("db2777"), // pink
			hex("0369a1"), // sky
			hex("7c3aed"), // violet
			hex("65a30d"), // lime
			hex("64748b"), // slate
		},
		background: hex("ffffff"),
		title:      hex("0f172a"),
		text:       hex("334155"),
		muted:      hex("64748b"),
		grid:       hex("e2e8f0"),
		baseline:   hex("94a3b8"),
		track:      hex("f1f5f9"),
		goal:       hex("e0e7ff"),
	}
}

// color returns the i-th series colour, cycling.
func (p palette) color(i int) drawing.Color {
	return p.series[i%len(p.series)]
}

// textOn returns white or the title colour, whichever reads better on c.
func (p palette) textOn(c drawing.Color) drawing.Color {
	if contrast(p.background, c) >= contrast(p.title, c) {
		return p.background
	}
	return p.title
}

// The chart.ColorPalette methods let go-chart's own charts use the palette.

func (p palette) BackgroundColor() drawing.Color       { return p.background }
func (p palette) BackgroundStrokeColor() drawing.Color { return p.background }
func (p palette) CanvasColor() drawing.Color           { return p.background }
func (p palette) CanvasStrokeColor() drawing.Color     { return p.background }
func (p palette) AxisStrokeColor() drawing.Color       { return p.baseline }
func (p palette) TextColor() drawing.Color             { return p.text }
func (p palette) GetSeriesColor(i int) drawing.Color   { return p.color(i) }

// contrast is the WCAG contrast ratio of two colours.
func contrast(a, b drawing.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c drawing.Color) float64 {
	channel := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*channel(c.R) + 0.7152*channel(c.G) + 0.0722*channel(c.B)
}
