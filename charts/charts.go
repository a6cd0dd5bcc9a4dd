// Package charts draws the dashboard's four charts as SVG: plain numbers in,
// SVG bytes out.
//
// Drawing is done by go-chart (github.com/wcharczuk/go-chart/v2). On top of it
// this package gives every chart the same palette and typography, currency
// formatting, a readable empty state, and an SVG root that scales to its
// container (viewBox, width="100%") and is labelled for screen readers
// (role="img", <title>, <desc>). Presentation is written as SVG attributes,
// not style attributes, so the charts also render under a strict
// Content-Security-Policy, and nothing in them is a script.
//
// The package is pure: it must not import any other package of the project
// (store, handlers, views, ...). Callers convert their rows into the input
// types defined here.
package charts

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/golang/freetype/truetype"
	chart "github.com/wcharczuk/go-chart/v2"
)

// Every chart is drawn on the same canvas so that dashboard cards line up;
// the SVG scales to its container, so this fixes proportions, not pixels.
const (
	chartWidth  = 640
	chartHeight = 360
	// dpi 72 makes go-chart's font sizes, given in points, equal to pixels.
	dpi = 72
)

// Option adjusts how one chart is drawn.
type Option func(*config)

// WithID sets the prefix of the ids the chart gives its <title> and <desc>
// elements (prefix+"-title", prefix+"-desc"). Each chart has a different
// default; pass one when a page shows the same chart twice. Characters not
// allowed in an id become "-".
func WithID(prefix string) Option {
	return func(c *config) {
		if id := sanitizeID(prefix); id != "" {
			c.id = id
		}
	}
}

type config struct {
	id      string
	palette palette
	font    *truetype.Font // go-chart's Roboto, used to measure and draw text
}

// defaultFont is go-chart's Roboto, loaded once: go-chart's own
// GetDefaultFont reads its cached font outside its lock, a data race when
// charts are drawn at the same time.
var defaultFont struct {
	once sync.Once
	font *truetype.Font
	err  error
}

func newConfig(defaultID string, opts []Option) (config, error) {
	defaultFont.once.Do(func() { defaultFont.font, defaultFont.err = chart.GetDefaultFont() })
	font, err := defaultFont.font, defaultFont.err
	if err != nil {
		return config{}, fmt.Errorf("charts: loading font: %w", err)
	}
	c := config{id: defaultID, palette: sherpaPalette(), font: font}
	for _, o := range opts {
		o(&c)
	}
	return c, nil
}

// pen returns a pen drawing on r with the chart's font.
func (c config) pen(r chart.Renderer) pen {
	return pen{r: r, font: c.font}
}

func sanitizeID(s string) string {
	var b strings.Builder
	for i, r := range s {
		ok := r == '-' || r == '_' || (r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)))
		if i == 0 && !(r < utf8.RuneSelf && unicode.IsLetter(r)) {
			b.WriteString("c-")
		}
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// document is what a chart says about itself to screen readers.
type document struct {
	title string // short name, also drawn as the visible heading
	desc  string // the numbers in words
}

// svgRenderer returns go-chart's SVG renderer wrapped so that all text it is
// given is XML-escaped (go-chart writes text verbatim) and may carry layout
// hints; see textRenderer.
func svgRenderer(width, height int) (chart.Renderer, error) {
	r, err := chart.SVG(width, height)
	if err != nil {
		return nil, err
	}
	r.SetDPI(dpi)
	return textRenderer{Renderer: r, st: &textState{}}, nil
}

// finish turns go-chart's SVG into the chart the dashboard embeds: a root that
// scales to its container and is labelled by a <title> and <desc>, style
// attributes rewritten as presentation attributes, text hints applied, and
// invisible shapes dropped.
func finish(raw []byte, width, height int, cfg config, doc document) ([]byte, error) {
	s := string(raw)
	if !strings.HasPrefix(s, "<svg") || !strings.HasSuffix(s, "</svg>") {
		return nil, fmt.Errorf("charts: unexpected SVG from go-chart: %.40q", s)
	}
	body := s[strings.IndexByte(s, '>')+1 : len(s)-len("</svg>")]
	body = shapeTag.ReplaceAllStringFunc(body, rewriteShape)
	body = textHint.ReplaceAllString(body, "$1$2>")
	body = emptyText.ReplaceAllString(body, "")

	var b bytes.Buffer
	b.Grow(len(body) + 1024)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" preserveAspectRatio="xMidYMid meet"`, width, height)
	fmt.Fprintf(&b, ` role="img" aria-labelledby="%[1]s-title %[1]s-desc" class="sherpa-chart"`, cfg.id)
	fmt.Fprintf(&b, ` font-family="%s" font-size="12">`, fontFamily)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, cfg.id, escapeText(doc.title))
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`, cfg.id, escapeText(doc.desc))
	b.WriteString(body)
	b.WriteString("</svg>")
	return b.Bytes(), nil
}

// fontFamily puts Roboto first because go-chart measures text with its
// embedded Roboto; the fallbacks have close metrics.
const fontFamily = `Roboto, 'Helvetica Neue', Helvetica, Arial, 'Liberation Sans', sans-serif`

var (
	shapeTag  = regexp.MustCompile(`<(path|text|circle)\b([^>]*?)(/?)>`)
	styleAttr = regexp.MustCompile(`\s*style="([^"]*)"`)
	rgbaColor = regexp.MustCompile(`^rgba\((\d+),(\d+),(\d+),([\d.]+)\)$`)
	emptyText = regexp.MustCompile(`<text [^>]*></text>`)
	// textHint matches a text element whose body starts with a hint written
	// by textRenderer, so the hint can become attributes of the element.
	textHint = regexp.MustCompile("(<text [^>]*?)>" + hintStart + "([^" + hintEnd + "]*)" + hintEnd)
)

// rewriteShape rewrites one start tag written by go-chart's SVG renderer:
// its style attribute becomes presentation attributes, and a path or circle
// that would paint nothing is dropped.
func rewriteShape(tag string) string {
	m := shapeTag.FindStringSubmatch(tag)
	name, attrs, selfClose := m[1], m[2], m[3]

	fill, stroke := "", "none"
	attrs = styleAttr.ReplaceAllStringFunc(attrs, func(style string) string {
		decls := strings.Split(styleAttr.FindStringSubmatch(style)[1], ";")
		props := make(map[string]string, len(decls))
		for _, d := range decls {
			if k, v, ok := strings.Cut(d, ":"); ok {
				props[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		fill, stroke = cssColor(props["fill"]), cssColor(props["stroke"])
		var out strings.Builder
		if fill != "" {
			fmt.Fprintf(&out, ` fill="%s"`, fill)
		}
		if props["stroke-width"] == "0" {
			stroke = "none"
		}
		if stroke != "" && stroke != "none" {
			fmt.Fprintf(&out, ` stroke="%s"`, stroke)
			if w := props["stroke-width"]; w != "" && w != "1" {
				fmt.Fprintf(&out, ` stroke-width="%s"`, w)
			}
		}
		if fs := props["font-size"]; fs != "" {
			fmt.Fprintf(&out, ` font-size="%s"`, strings.TrimSuffix(strings.TrimSuffix(fs, "px"), ".0"))
		}
		return out.String()
	})
	if name != "text" && fill == "none" && (stroke == "" || stroke == "none") {
		return "" // nothing would be painted
	}
	return "<" + name + " " + strings.Join(strings.Fields(attrs), " ") + selfClose + ">"
}

// cssColor turns go-chart's opaque rgba(r,g,b,1.0) into #rrggbb and a fully
// transparent one into "none"; anything else is kept as it is.
func cssColor(v string) string {
	m := rgbaColor.FindStringSubmatch(v)
	if m == nil {
		return v
	}
	switch m[4] {
	case "0.0":
		return "none"
	case "1.0":
		hex := "#"
		for _, c := range m[1:4] {
			n, err := strconv.ParseUint(c, 10, 8)
			if err != nil {
				return v
			}
			hex += fmt.Sprintf("%02x", n)
		}
		return hex
	}
	return v
}
