package charts

import (
	"encoding/xml"
	"strings"
	"sync"
	"unicode"

	"github.com/golang/freetype/truetype"
	chart "github.com/wcharczuk/go-chart/v2"
	"github.com/wcharczuk/go-chart/v2/drawing"
	"golang.org/x/image/font"
)

// go-chart's SVG renderer has no text-anchor or font-weight, and it measures
// text with Roboto while browsers may draw it with a fallback font. Right- and
// centre-aligned text is therefore anchored by the browser rather than placed
// from a measured width: the text body carries the attributes between two
// private-use runes, and finish moves them onto the <text> element. User text
// never contains these runes (displayLine removes them).
const (
	hintStart = "\uE000"
	hintEnd   = "\uE001"
)

// textRenderer escapes text for XML before go-chart's SVG renderer writes it,
// keeping any hint prefix as it is. It also measures text itself: go-chart's
// SVG renderer builds a new font face (with a glyph cache of a few hundred
// kilobytes) for every measurement, which made a chart take tens of
// milliseconds; textRenderer measures the same way with faces that are kept.
type textRenderer struct {
	chart.Renderer
	st *textState
}

// textState is what a measurement depends on, followed as go-chart sets it.
type textState struct {
	font  *truetype.Font
	size  float64
	theta *float64
}

func (t textRenderer) SetFont(f *truetype.Font) {
	t.Renderer.SetFont(f)
	t.st.font = f
}

func (t textRenderer) SetFontSize(size float64) {
	t.Renderer.SetFontSize(size)
	t.st.size = size
}

// ResetStyle keeps the font, as go-chart's SVG renderer does.
func (t textRenderer) ResetStyle() {
	t.Renderer.ResetStyle()
	t.st.size = 0
}

func (t textRenderer) SetTextRotation(radians float64) {
	t.Renderer.SetTextRotation(radians)
	t.st.theta = &radians
}

func (t textRenderer) ClearTextRotation() {
	t.Renderer.ClearTextRotation()
	t.st.theta = nil
}

// MeasureText is go-chart's vector renderer's MeasureText with a kept face.
func (t textRenderer) MeasureText(body string) chart.Box {
	if t.st.font == nil {
		return chart.Box{}
	}
	dpi := t.Renderer.GetDPI()
	box := chart.Box{
		Right:  measureWidth(t.st.font, dpi, t.st.size, body),
		Bottom: int(drawing.PointsToPixels(dpi, t.st.size)),
	}
	if t.st.theta != nil {
		box = box.Corners().Rotate(chart.RadiansToDegrees(*t.st.theta)).Box()
	}
	return box
}

// faces keeps one font face per font, DPI and size. A face is not safe for
// concurrent use, so measuring holds the lock; it takes microseconds.
var faces = struct {
	sync.Mutex
	m map[faceKey]font.Face
}{m: map[faceKey]font.Face{}}

type faceKey struct {
	font      *truetype.Font
	dpi, size float64
}

func measureWidth(f *truetype.Font, dpi, size float64, s string) int {
	faces.Lock()
	defer faces.Unlock()
	k := faceKey{f, dpi, size}
	face := faces.m[k]
	if face == nil {
		face = truetype.NewFace(f, &truetype.Options{DPI: dpi, Size: size})
		faces.m[k] = face
	}
	return font.MeasureString(face, s).Ceil()
}

func (t textRenderer) Text(body string, x, y int) {
	hint := ""
	if strings.HasPrefix(body, hintStart) {
		if end := strings.Index(body, hintEnd); end > 0 {
			hint, body = body[:end+len(hintEnd)], body[end+len(hintEnd):]
		}
	}
	t.Renderer.Text(hint+escapeText(body), x, y)
}

// escapeText escapes s as XML character data.
func escapeText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// displayLine makes one line of chart text out of stored names (a display
// rule, not an input rule: input is checked by store/rules.go). Invalid UTF-8
// is replaced, control characters become spaces, private-use runes (our text
// hints) go, and runs of white space collapse.
func displayLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 0xE000 && r <= 0xF8FF:
			return -1
		case unicode.IsControl(r) || unicode.IsSpace(r):
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// align says which point of a text its x coordinate is.
type align int

const (
	alignStart align = iota
	alignMiddle
	alignEnd
)

// textStyle is how one piece of text is drawn.
type textStyle struct {
	size  float64
	color drawing.Color
	bold  bool
	align align
}

// pen draws on a go-chart renderer with go-chart's font, Roboto.
type pen struct {
	r    chart.Renderer
	font *truetype.Font
}

// text draws s with its baseline at y.
func (p pen) text(s string, x, y int, ts textStyle) {
	chart.Style{Font: p.font, FontSize: ts.size, FontColor: ts.color}.WriteToRenderer(p.r)
	var attrs []string
	switch ts.align {
	case alignMiddle:
		attrs = append(attrs, `text-anchor="middle"`)
	case alignEnd:
		attrs = append(attrs, `text-anchor="end"`)
	}
	if ts.bold {
		attrs = append(attrs, `font-weight="600"`)
	}
	if len(attrs) > 0 {
		s = hintStart + " " + strings.Join(attrs, " ") + hintEnd + s
	}
	p.r.Text(s, x, y)
	p.r.ResetStyle()
}

// width measures s as drawn in the given style. Roboto Medium is the only
// font go-chart has, so bold text is assumed a little wider.
func (p pen) width(s string, ts textStyle) int {
	chart.Style{Font: p.font, FontSize: ts.size}.WriteToRenderer(p.r)
	w := p.r.MeasureText(s).Width()
	p.r.ResetStyle()
	if ts.bold {
		w = w * 106 / 100
	}
	return w
}

// fit shortens s with an ellipsis until it is at most max wide.
func (p pen) fit(s string, max int, ts textStyle) string {
	if p.width(s, ts) <= max {
		return s
	}
	runes := []rune(s)
	for n := len(runes) - 1; n > 0; n-- {
		t := strings.TrimRightFunc(string(runes[:n]), unicode.IsSpace) + "…"
		if p.width(t, ts) <= max {
			return t
		}
	}
	return "…"
}

// rect fills a rectangle with its top corners rounded by radius, and its
// bottom ones too when roundBottom is set.
func (p pen) rect(left, top, right, bottom int, fill drawing.Color, radius int, roundBottom bool) {
	p.box(left, top, right, bottom, chart.Style{FillColor: fill}, radius, roundBottom)
}

// outlined is rect with a 2-unit outline: 1 inside the edge, 1 outside.
func (p pen) outlined(left, top, right, bottom int, fill, outline drawing.Color, radius int, roundBottom bool) {
	p.box(left, top, right, bottom, chart.Style{FillColor: fill, StrokeColor: outline, StrokeWidth: 2}, radius, roundBottom)
}

func (p pen) box(left, top, right, bottom int, paint chart.Style, radius int, roundBottom bool) {
	if right <= left || bottom <= top {
		return
	}
	w, h := right-left, bottom-top
	radius = min(radius, w/2, h)
	if roundBottom {
		radius = min(radius, h/2)
	}
	paint.WriteToRenderer(p.r)
	r := p.r
	if radius <= 0 {
		r.MoveTo(left, top)
		r.LineTo(right, top)
		r.LineTo(right, bottom)
		r.LineTo(left, bottom)
		r.Close()
		r.FillStroke()
		r.ResetStyle()
		return
	}
	r.MoveTo(left, top+radius)
	r.QuadCurveTo(left, top, left+radius, top)
	r.LineTo(right-radius, top)
	r.QuadCurveTo(right, top, right, top+radius)
	if roundBottom {
		r.LineTo(right, bottom-radius)
		r.QuadCurveTo(right, bottom, right-radius, bottom)
		r.LineTo(left+radius, bottom)
		r.QuadCurveTo(left, bottom, left, bottom-radius)
	} else {
		r.LineTo(right, bottom)
		r.LineTo(left, bottom)
	}
	r.Close()
	r.FillStroke()
	r.ResetStyle()
}

// line strokes a straight line.
func (p pen) line(x1, y1, x2, y2 int, color drawing.Color, width float64) {
	chart.Style{StrokeColor: color, StrokeWidth: width}.WriteToRenderer(p.r)
	p.r.MoveTo(x1, y1)
	p.r.LineTo(x2, y2)
	p.r.Stroke()
	p.r.ResetStyle()
}
