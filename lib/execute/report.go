package execute

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/skybutler/skybutler/lib/qgraph"
)

// Report summarises the execution of a graph from its provenance.
type Report struct {
	GraphID  string       `json:"graph_id"`
	Run      string       `json:"run"`
	Tasks    []TaskReport `json:"tasks"`
	Failures []Failure    `json:"failures"`
	Start    time.Time    `json:"start"`
	End      time.Time    `json:"end"`
	Quanta   []Bar        `json:"timeline"`
}

// TaskReport counts one task's quanta by status.
type TaskReport struct {
	Label     string `json:"label"`
	Planned   int    `json:"planned"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
	Blocked   int    `json:"blocked"`
	NoWork    int    `json:"no_work"`
	NotRun    int    `json:"not_run"`
}

// Failure is one failed quantum.
type Failure struct {
	Task   string `json:"task"`
	DataID string `json:"data_id"`
	Error  string `json:"error"`
}

// Bar is one quantum on the timeline.
type Bar struct {
	Task   string    `json:"task"`
	DataID string    `json:"data_id"`
	Host   string    `json:"host"`
	Status string    `json:"status"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

func formatDataID(id map[string]any) string {
	keys := make([]string, 0, len(id))
	for k := range id {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, id[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// NewReport builds the report of a graph from its documents.
func NewReport(h *qgraph.Header, docs []*Provenance) *Report {
	r := &Report{GraphID: h.GraphID, Run: h.OutputRun}
	byLabel := map[string]*TaskReport{}
	for _, t := range h.TaskQuanta {
		r.Tasks = append(r.Tasks, TaskReport{Label: t.Label, Planned: t.Quanta})
	}
	for i := range r.Tasks {
		byLabel[r.Tasks[i].Label] = &r.Tasks[i]
	}
	for _, d := range docs {
		t := byLabel[d.TaskLabel]
		if t == nil {
			r.Tasks = append(r.Tasks, TaskReport{Label: d.TaskLabel})
			t = &r.Tasks[len(r.Tasks)-1]
			byLabel = map[string]*TaskReport{}
			for i := range r.Tasks {
				byLabel[r.Tasks[i].Label] = &r.Tasks[i]
			}
			t = byLabel[d.TaskLabel]
		}
		switch d.Status {
		case Succeeded:
			t.Succeeded++
		case Failed:
			t.Failed++
			r.Failures = append(r.Failures, Failure{Task: d.TaskLabel, DataID: formatDataID(d.DataID), Error: firstLine(d.ErrorMessage)})
		case Blocked:
			t.Blocked++
		case NoWork:
			t.NoWork++
		}
		if r.Start.IsZero() || d.Start.Before(r.Start) {
			r.Start = d.Start
		}
		if d.End.After(r.End) {
			r.End = d.End
		}
		r.Quanta = append(r.Quanta, Bar{Task: d.TaskLabel, DataID: formatDataID(d.DataID), Host: d.Host, Status: d.Status, Start: d.Start, End: d.End})
	}
	for i := range r.Tasks {
		t := &r.Tasks[i]
		t.NotRun = max(t.Planned-t.Succeeded-t.Failed-t.Blocked-t.NoWork, 0)
	}
	sort.Slice(r.Failures, func(i, j int) bool {
		if r.Failures[i].Task != r.Failures[j].Task {
			return r.Failures[i].Task < r.Failures[j].Task
		}
		return r.Failures[i].DataID < r.Failures[j].DataID
	})
	sort.Slice(r.Quanta, func(i, j int) bool { return r.Quanta[i].Start.Before(r.Quanta[j].Start) })
	return r
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>skybutler report {{.GraphID}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}.failed{color:#b00}.err{text-align:left;font-family:monospace;font-size:.85em}
#gantt{position:relative;border:1px solid #ccc;background:#fafafa}
.bar{position:absolute;height:8px;border-radius:2px}
.succeeded{background:#3a7}.failedbar{background:#d33}.blocked{background:#999}.no_work{background:#db3}
</style></head><body>
<h1>Graph {{.GraphID}}</h1>
<p>Run <code>{{.Run}}</code>, {{len .Quanta}} quanta executed{{if not .Start.IsZero}}, {{.Start.Format "2006-01-02 15:04:05"}} to {{.End.Format "15:04:05"}} UTC{{end}}.</p>
<h2>Status</h2>
<table><tr><th>task</th><th>planned</th><th>succeeded</th><th>failed</th><th>blocked</th><th>no_work</th><th>not run</th></tr>
{{range .Tasks}}<tr><td>{{.Label}}</td><td>{{.Planned}}</td><td>{{.Succeeded}}</td><td class="{{if .Failed}}failed{{end}}">{{.Failed}}</td><td>{{.Blocked}}</td><td>{{.NoWork}}</td><td>{{.NotRun}}</td></tr>
{{end}}</table>
{{if .Failures}}<h2>Failures</h2><table><tr><th>task</th><th>data ID</th><th>error</th></tr>
{{range .Failures}}<tr><td>{{.Task}}</td><td>{{.DataID}}</td><td class="err">{{.Error}}</td></tr>{{end}}</table>{{end}}
<h2>Timeline</h2>
<div id="gantt"></div>
<p><span class="bar succeeded" style="position:static;display:inline-block;width:1em"></span> succeeded
<span class="bar failedbar" style="position:static;display:inline-block;width:1em"></span> failed
<span class="bar no_work" style="position:static;display:inline-block;width:1em"></span> no work</p>
<script>
const q = {{.QuantaJSON}};
const g = document.getElementById('gantt');
if (q.length) {
  const t0 = Math.min(...q.map(b => Date.parse(b.start))), t1 = Math.max(...q.map(b => Date.parse(b.end)));
  const span = Math.max(t1 - t0, 1), w = g.clientWidth || 900;
  g.style.height = (q.length * 10 + 10) + 'px';
  q.forEach((b, i) => {
    const d = document.createElement('div');
    d.className = 'bar ' + (b.status === 'failed' ? 'failedbar' : b.status);
    d.style.left = ((Date.parse(b.start) - t0) / span * (w - 10)) + 'px';
    d.style.width = Math.max((Date.parse(b.end) - Date.parse(b.start)) / span * (w - 10), 2) + 'px';
    d.style.top = (i * 10 + 5) + 'px';
    d.title = b.task + ' ' + b.data_id + ' ' + b.status + ' on ' + b.host;
    g.appendChild(d);
  });
}
</script></body></html>
`))

// HTML renders the report as one self-contained page: status table,
// failures and a Gantt timeline of the quanta.
func (r *Report) HTML() ([]byte, error) {
	qj, err := json.Marshal(r.Quanta)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = page.Execute(&b, struct {
		*Report
		QuantaJSON template.JS
	}{r, template.JS(qj)})
	return b.Bytes(), err
}
