package charts

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// sampleMonths is a year of closed vs goal data in EUR, April to March.
func sampleMonths() []MonthAmounts {
	closed := []int64{820000, 1240000, 960000, 0, 1530000, 1105050, 2210000, 1890000, 760000, 1320000, 1675000, 2040000}
	goal := []int64{1000000, 1000000, 1200000, 1200000, 1200000, 1500000, 1500000, 1500000, 1500000, 1800000, 1800000, 1800000}
	var ms []MonthAmounts
	for i := range closed {
		ms = append(ms, MonthAmounts{
			Month:  time.Date(2024, time.April+time.Month(i), 1, 0, 0, 0, 0, time.UTC),
			Closed: closed[i],
			Goal:   goal[i],
		})
	}
	return ms
}

func sampleForecast() []StageAmount {
	return []StageAmount{
		{"Created", 420000},
		{"Qualified To Buy", 315050},
		{"Contract Sent", 278000},
		{"Appointment Scheduled", 141500},
		{"Closed Won", 89900},
	}
}

// sampleForecastSmall has a tiny slice, a zero stage and a long name.
func sampleForecastSmall() []StageAmount {
	return []StageAmount{
		{"Created", 1250000},
		{"Qualified To Buy", 0},
		{"Contract Sent <signed> & \"sealed\" by Zoë Müller-Lüdenscheidt", 40000},
		{"Appointment Scheduled", 312345},
		{"Closed Won", 9},
	}
}

// sampleMonthsLarge is half a year of large USD amounts, across a new year.
func sampleMonthsLarge() []MonthAmounts {
	var ms []MonthAmounts
	for i := range 6 {
		ms = append(ms, MonthAmounts{
			Month:  time.Date(2024, time.October+time.Month(i), 1, 0, 0, 0, 0, time.UTC),
			Closed: int64(i+1) * 31234567,
			Goal:   150000000,
		})
	}
	return ms
}

func sampleFunnel() []FunnelStage {
	return []FunnelStage{
		{"Created", 1240},
		{"Qualified To Buy", 744},
		{"Contract Sent", 372},
		{"Appointment Scheduled", 298},
		{"Closed Won", 31},
	}
}

var activityTypes = []string{"note", "email", "task", "task completed", "meeting"}

// sampleMembers has six members (one too many), long and non-ASCII names,
// and markup in a name.
func sampleMembers() []MemberActivity {
	return []MemberActivity{
		{"Ana Silva", map[string]int{"note": 12, "email": 30, "task": 8, "task completed": 6, "meeting": 4}},
		{"Zoë Müller-Lüdenscheidt", map[string]int{"note": 20, "email": 18, "task": 10, "task completed": 9, "meeting": 7}},
		{"Bob <script>alert(1)</script> & Co", map[string]int{"note": 3, "email": 9, "task": 2, "meeting": 1}},
		{"Chidi Okonkwo", map[string]int{"email": 41, "meeting": 12}},
		{"李小龍", map[string]int{"note": 5, "task": 4, "task completed": 4}},
		{"Quiet Quentin", map[string]int{"note": 1}},
	}
}

// svgDoc is what the tests read back from a chart.
type svgDoc struct {
	root     map[string]string  // attributes of the root element
	children []xml.StartElement // the root's child elements, in order
	title    string
	desc     string
	ids      map[string]bool
	texts    []string // the content of every <text>, in document order
}

// parseSVG decodes a whole chart with encoding/xml, failing the test if it
// is not well-formed XML with an <svg> root.
func parseSVG(t *testing.T, svg []byte) svgDoc {
	t.Helper()
	doc := svgDoc{root: map[string]string{}, ids: map[string]bool{}}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var stack []string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%.300s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			for _, a := range tok.Attr {
				if a.Name.Local == "id" {
					doc.ids[a.Value] = true
				}
			}
			switch len(stack) {
			case 0:
				if tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg" {
					t.Fatalf("root element is %v, want svg in the SVG namespace", tok.Name)
				}
				for _, a := range tok.Attr {
					doc.root[a.Name.Local] = a.Value
				}
			case 1:
				doc.children = append(doc.children, tok.Copy())
			}
			stack = append(stack, tok.Name.Local)
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			if len(stack) == 2 {
				switch tok.Name.Local {
				case "title":
					doc.title = text.String()
				case "desc":
					doc.desc = text.String()
				}
			}
			if tok.Name.Local == "text" {
				doc.texts = append(doc.texts, text.String())
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements %v", stack)
	}
	return doc
}

// hasText reports whether some <text> of the chart is exactly s.
func (d svgDoc) hasText(s string) bool {
	for _, t := range d.texts {
		if t == s {
			return true
		}
	}
	return false
}

// attr returns an attribute of a start element.
func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
