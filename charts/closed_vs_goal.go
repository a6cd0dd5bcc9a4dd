package charts

import (
	"fmt"
	"strings"
	"time"

	chart "github.com/wcharczuk/go-chart/v2"

	"sherpa/money"
)

// MonthAmounts is one month of the closed-vs-goal chart. Amounts are in minor
// units of the team currency.
type MonthAmounts struct {
	// Month is any time in the month, in the team's time zone: only its
	// year and month are shown.
	Month time.Time
	// Closed is the total amount of deals closed won in the month.
	Closed int64
	// Goal is the total goal of deals whose close date is in the month.
	Goal int64
}

// ClosedVsGoal draws, for each month in the order given (the dashboard
// passes the last 12, oldest first), the amount closed won next to the goal,
// with a currency axis on the left. Negative amounts are drawn as zero.
func ClosedVsGoal(months []MonthAmounts, currency string, opts ...Option) ([]byte, error) {
	cfg, err := newConfig("chart-closed-vs-goal", opts)
	if err != nil {
		return nil, err
	}
	pal := cfg.palette

	var closed, goal []float64
	var totalClosed, totalGoal, top int64
	for _, m := range months {
		c, g := max(m.Closed, 0), max(m.Goal, 0)
		closed = append(closed, float64(c))
		goal = append(goal, float64(g))
		totalClosed += c
		totalGoal += g
		top = max(top, c, g)
	}

	head := heading{
		title: "Closed won vs goal",
		legend: []legendItem{
			{label: "Closed won", color: pal.color(0)},
			{label: "Goal", color: pal.goal, outline: pal.color(0)},
		},
	}
	if len(months) > 0 {
		head.subtitle = fmt.Sprintf("%s – %s · %s closed of %s goal",
			monthYear(months[0].Month), monthYear(months[len(months)-1].Month),
			money.Format(totalClosed, currency), money.Format(totalGoal, currency))
	}
	doc := document{title: head.title, desc: closedVsGoalDesc(months, currency)}

	if top == 0 {
		return emptyState(cfg, doc, head,
			"No deals closed in the last 12 months",
			"Deals closed won and their goals will show here, month by month.")
	}

	labels := make([]string, len(months))
	for i, m := range months {
		labels[i] = m.Month.Format("Jan")
	}
	c := barChartBase(cfg, len(months), niceTicks(top, 5),
		func(v int64) string { return money.FormatShort(v, currency) }, labels)
	c.Background.Padding.Bottom = 26 // room for the year under the months
	c.Series = []chart.Series{
		barSeries{name: "Closed won", color: pal.color(0), values: closed, group: 0, groupSize: 2, slotFill: 0.7, maxBarWidth: 18, font: cfg.font},
		barSeries{name: "Goal", color: pal.goal, outline: pal.color(0), values: goal, group: 1, groupSize: 2, slotFill: 0.7, maxBarWidth: 18, font: cfg.font},
	}
	c.Elements = []chart.Renderable{
		baseline(pal),
		head.renderable(cfg),
		func(r chart.Renderer, canvas chart.Box, _ chart.Style) {
			p := cfg.pen(r)
			// The year goes under the first month and under each January.
			slot := float64(canvas.Width()) / float64(len(months))
			for i, m := range months {
				if i == 0 || m.Month.Month() == time.January {
					x := canvas.Left + int((float64(i)+0.5)*slot)
					p.text(m.Month.Format("2006"), x, canvas.Bottom+38, textStyle{size: 11, color: pal.muted, align: alignMiddle})
				}
			}
		},
	}
	return renderChart(c, cfg, doc, chartWidth, chartHeight)
}

func monthYear(t time.Time) string { return t.Format("Jan 2006") }

func closedVsGoalDesc(months []MonthAmounts, currency string) string {
	if len(months) == 0 {
		return "No months to show."
	}
	parts := make([]string, len(months))
	for i, m := range months {
		parts[i] = fmt.Sprintf("%s: closed %s, goal %s", monthYear(m.Month),
			money.Format(m.Closed, currency), money.Format(m.Goal, currency))
	}
	return "Amount of deals closed won and their goal, per month. " + strings.Join(parts, "; ") + "."
}
