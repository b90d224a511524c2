package bench

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"text/template"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH             = 980, 520
	plotX, plotY, plotW, plotH = 70, 50, 660, 400
	maxChartPoints             = 1500
)

// scenarioColors gives each scenario its line colour; the baseline is
// drawn dashed in the same colour.
var scenarioColors = map[string]string{
	"bilateral": "#1f77b4", "regional": "#2ca02c", "broadcast": "#d62728", "mixed": "#9467bd",
}

type chartLine struct {
	Label, Color, Dash, Points string
}

type chartTick struct {
	Pos   float64
	Label string
}

type chartData struct {
	W, H, X, Y, PW, PH, Right, Bottom int
	Title                             string
	XTicks, YTicks                    []chartTick
	P99Y                              float64
	Lines                             []chartLine
}

var chartTmpl = template.Must(template.New("chart").Funcs(template.FuncMap{
	"esc":     xmlEscape,
	"add":     func(a, b int) int { return a + b },
	"legendY": func(i int) int { return plotY + 10 + 20*i },
}).Parse(
	`<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" font-family="sans-serif" font-size="12">
<rect width="{{.W}}" height="{{.H}}" fill="white"/>
<text x="{{.X}}" y="28" font-size="15">{{esc .Title}}</text>
{{range .XTicks}}<line x1="{{.Pos}}" y1="{{$.Y}}" x2="{{.Pos}}" y2="{{$.Bottom}}" stroke="#ddd"/>
<text x="{{.Pos}}" y="{{$.Bottom}}" dy="18" text-anchor="middle">{{esc .Label}}</text>
{{end}}{{range .YTicks}}<line x1="{{$.X}}" y1="{{.Pos}}" x2="{{$.Right}}" y2="{{.Pos}}" stroke="#ddd"/>
<text x="{{$.X}}" y="{{.Pos}}" dx="-6" dy="4" text-anchor="end">{{esc .Label}}</text>
{{end}}<line x1="{{.X}}" y1="{{.P99Y}}" x2="{{.Right}}" y2="{{.P99Y}}" stroke="#999" stroke-dasharray="2 3"/>
<text x="{{.Right}}" y="{{.P99Y}}" dx="4" dy="4" fill="#666">p99</text>
<rect x="{{.X}}" y="{{.Y}}" width="{{.PW}}" height="{{.PH}}" fill="none" stroke="#333"/>
<text x="{{.X}}" y="{{.Bottom}}" dx="{{.PW}}" dy="38" text-anchor="end">milliseconds from post to the last recipient (log scale)</text>
<text transform="translate(22 {{.Bottom}}) rotate(-90)">fraction of bulletins delivered everywhere</text>
{{range $i, $l := .Lines}}<polyline fill="none" stroke="{{$l.Color}}" stroke-width="1.8"{{if $l.Dash}} stroke-dasharray="{{$l.Dash}}"{{end}} points="{{$l.Points}}"/>
{{end}}{{range $i, $l := .Lines}}<line x1="{{$.Right | add 20}}" y1="{{legendY $i}}" x2="{{$.Right | add 50}}" y2="{{legendY $i}}" stroke="{{$l.Color}}" stroke-width="2"{{if $l.Dash}} stroke-dasharray="{{$l.Dash}}"{{end}}/>
<text x="{{$.Right | add 56}}" y="{{legendY $i}}" dy="4">{{esc $l.Label}}</text>
{{end}}</svg>
`))

// WriteChart writes an SVG chart of the headline latency: for each
// scenario, the cumulative distribution of the time from post to the last
// recipient's analyst (solid) and of the baseline's post to last consumer
// (dashed), on a logarithmic time axis.
func (r *Report) WriteChart(w io.Writer) error {
	lo, hi := math.Inf(1), 0.0
	for _, s := range r.Scenarios {
		for _, v := range [][]float64{s.IANT.LastRecipientSamples, s.Baseline.LastRecipientSamples} {
			if len(v) > 0 {
				lo, hi = min(lo, v[0]), max(hi, v[len(v)-1])
			}
		}
	}
	if hi == 0 {
		lo, hi = 1, 10
	}
	dlo := math.Floor(math.Log10(max(lo, 0.01)))
	dhi := math.Max(math.Ceil(math.Log10(hi)), dlo+1)
	xOf := func(v float64) float64 {
		return round1(plotX + plotW*(math.Log10(max(v, 0.01))-dlo)/(dhi-dlo))
	}
	yOf := func(f float64) float64 { return round1(plotY + plotH*(1-f)) }
	d := chartData{
		W: chartW, H: chartH, X: plotX, Y: plotY, PW: plotW, PH: plotH, Right: plotX + plotW, Bottom: plotY + plotH,
		Title: fmt.Sprintf("IANT bench: post → last recipient, %d states, %s", len(r.Config.States), r.Config.Mode),
		P99Y:  yOf(0.99),
	}
	for e := dlo; e <= dhi; e++ {
		d.XTicks = append(d.XTicks, chartTick{Pos: xOf(math.Pow(10, e)), Label: fmt.Sprintf("%g", math.Pow(10, e))})
	}
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 0.9, 1} {
		d.YTicks = append(d.YTicks, chartTick{Pos: yOf(f), Label: fmt.Sprintf("%g", f)})
	}
	for _, s := range r.Scenarios {
		color := scenarioColors[s.Scenario]
		if color == "" {
			color = "#333"
		}
		d.Lines = append(d.Lines,
			chartLine{Label: "IANT " + s.Scenario, Color: color, Points: cdfPoints(s.IANT.LastRecipientSamples, xOf, yOf)},
			chartLine{Label: "backbone " + s.Scenario, Color: color, Dash: "6 4", Points: cdfPoints(s.Baseline.LastRecipientSamples, xOf, yOf)})
	}
	return chartTmpl.Execute(w, d)
}

// cdfPoints renders sorted samples as the steps of their cumulative
// distribution, thinned to at most maxChartPoints.
func cdfPoints(sorted []float64, xOf, yOf func(float64) float64) string {
	n := len(sorted)
	if n == 0 {
		return ""
	}
	step := max(1, n/maxChartPoints)
	var b strings.Builder
	fmt.Fprintf(&b, "%.1f,%.1f", xOf(sorted[0]), yOf(0))
	for i := 0; i < n; i += step {
		x := xOf(sorted[i])
		fmt.Fprintf(&b, " %.1f,%.1f %.1f,%.1f", x, yOf(float64(i)/float64(n)), x, yOf(float64(i+1)/float64(n)))
	}
	x := xOf(sorted[n-1])
	fmt.Fprintf(&b, " %.1f,%.1f", x, yOf(1))
	return b.String()
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // a bytes.Buffer does not fail
	return b.String()
}
