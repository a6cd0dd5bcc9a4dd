package charts

import (
	"bytes"
	"sync"
	"testing"
)

// drawAll draws one of each chart with the sample data.
func drawAll(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, draw := range []func() ([]byte, error){
		func() ([]byte, error) { return ClosedVsGoal(sampleMonths(), "EUR") },
		func() ([]byte, error) { return Forecast(sampleForecastSmall(), "USD") },
		func() ([]byte, error) { return Funnel(sampleFunnel()) },
		func() ([]byte, error) { return TeamActivity(sampleMembers(), nil) },
	} {
		svg, err := draw()
		if err != nil {
			t.Error(err) // Error, not Fatal: drawAll runs on other goroutines too
		}
		out = append(out, svg)
	}
	return out
}

// TestChartsDrawTheSameAtOnce: the text measurements share font faces
// between charts drawn at the same time (the dashboard draws its halves side
// by side, for many teams); the drawings must not change.
func TestChartsDrawTheSameAtOnce(t *testing.T) {
	want := drawAll(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, got := range drawAll(t) {
				if !bytes.Equal(got, want[i]) {
					t.Errorf("chart %d drawn at once with others differs", i)
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkCharts draws the four dashboard charts.
func BenchmarkCharts(b *testing.B) {
	for range b.N {
		drawAll(b)
	}
}
