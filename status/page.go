package status

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/quorumwatch/zookeeper_exporter/ensemble"
	"github.com/quorumwatch/zookeeper_exporter/quorum"
)

// RefreshInterval is how often the page asks for a new table.
const RefreshInterval = 5 * time.Second

// Handler serves the live status page at its path, the page's table alone
// with ?format=fragment (what the page's script fetches), and the report
// with ?format=json. Each request probes every configured ensemble within
// timeout; concurrent requests and scrapes share probe rounds.
func Handler(registry *ensemble.Registry, timeout time.Duration) http.Handler {
	return newHandler(func(ctx context.Context) Report {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var names []string
		for _, ensemble := range registry.Config().Ensembles {
			names = append(names, ensemble.Name)
		}
		return Collect(ctx, registry, names)
	})
}

func newHandler(source func(context.Context) Report) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report := source(r.Context())
		w.Header().Set("Cache-Control", "no-store")
		var body bytes.Buffer
		var err error
		switch r.URL.Query().Get("format") {
		case "json":
			w.Header().Set("Content-Type", "application/json")
			err = WriteJSON(&body, report)
		case "fragment":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			err = page.ExecuteTemplate(&body, "ensembles", report)
		case "":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			err = page.Execute(&body, pageData{Report: report, RefreshMs: RefreshInterval.Milliseconds()})
		default:
			http.Error(w, "format is json, fragment or absent", http.StatusBadRequest)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(body.Bytes())
	})
}

type pageData struct {
	Report    Report
	RefreshMs int64
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"upper":  func(h quorum.Health) string { return strings.ToUpper(strings.ReplaceAll(string(h), "_", " ")) },
	"yesno":  yesNo,
	"dash":   orDash,
	"safe":   func(m Member) string { return m.safeText() },
	"lat":    func(m Member) string { return m.latencyText() },
	"clock":  func(t time.Time) string { return t.Format("15:04:05") },
	"lines":  func(e Ensemble) []string { return e.details() },
	"health": func(h quorum.Health) string { return strings.ReplaceAll(string(h), "_", "-") },
}).Parse(pageTemplate))

// The page carries its own CSS and script: no external assets, so it works
// on an isolated network. Below 700px the table becomes one card per member.
const pageTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ZooKeeper status</title>
<style>
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --line: #d0d7de; --muted: #57606a; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 1rem; line-height: 1.4; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; }
h1 { font-size: 1.3rem; margin: 0; }
#updated { color: var(--muted); font-size: .9rem; }
#updated.stale { color: var(--bad); }
section { margin: 1.2rem 0; }
h2 { font-size: 1.1rem; margin: 0 0 .3rem; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; color: #fff; font-size: .8rem; font-weight: 600; vertical-align: middle; }
.healthy { background: var(--ok); } .degraded { background: var(--warn); } .at-risk, .lost { background: var(--bad); }
.summary { margin: .2rem 0 .6rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; }
td.mono { font-family: ui-monospace, monospace; }
.yes { color: var(--ok); font-weight: 600; } .no { color: var(--bad); font-weight: 600; }
.reason { color: var(--muted); font-size: .85rem; }
ul.details { margin: .5rem 0 0; padding-left: 1.2rem; }
@media (max-width: 700px) {
  table, tbody, tr, td { display: block; width: 100%; box-sizing: border-box; }
  thead { display: none; }
  tr { border: 1px solid var(--line); border-radius: .5rem; margin: .6rem 0; padding: .3rem .2rem; }
  td { border: 0; padding: .15rem .6rem; display: flex; justify-content: space-between; gap: 1rem; }
  td::before { content: attr(data-label); font-family: system-ui, sans-serif; font-weight: 600; color: var(--muted); white-space: nowrap; }
  td > div { text-align: right; }
  td.member { font-weight: 600; }
}
</style>
</head>
<body>
<header>
<h1>ZooKeeper status</h1>
<span id="updated">probed {{clock .Report.Time}}; refreshes every {{.RefreshMs}} ms</span>
</header>
<main id="ensembles">{{template "ensembles" .Report}}</main>
<script>
(function () {
  var main = document.getElementById("ensembles"), updated = document.getElementById("updated");
  function refresh() {
    fetch("status?format=fragment", {cache: "no-store"}).then(function (r) {
      if (!r.ok) { throw new Error(r.status + " " + r.statusText); }
      return r.text();
    }).then(function (html) {
      main.innerHTML = html;
      updated.className = "";
      updated.textContent = "live, updated " + new Date().toLocaleTimeString();
      document.body.setAttribute("data-live", "1");
    }).catch(function (e) {
      updated.className = "stale";
      updated.textContent = "not updating: " + e.message;
    });
  }
  refresh();
  setInterval(refresh, {{.RefreshMs}});
})();
</script>
</body>
</html>
{{define "ensembles"}}{{range .Ensembles}}
<section class="ensemble" data-ensemble="{{.Name}}" data-health="{{.Health}}">
<h2>{{.Name}} <span class="badge {{health .Health}}">{{upper .Health}}</span></h2>
{{if .Error}}<p class="summary">probe failed: {{.Error}}</p>{{else}}
<p class="summary">voters {{.Voters}} (in quorum {{.VotersInQuorum}}), observers {{.Observers}}, quorum size {{.QuorumSize}}, margin {{.Margin}} of {{.FaultTolerance}}, leader {{dash .Leader}}</p>
<table>
<thead><tr><th>Member</th><th>Role</th><th>DC</th><th>Mode</th><th>Zxid</th><th>Latency avg/max</th><th>Serving</th><th>Caught up</th><th>Safe to stop</th></tr></thead>
<tbody>{{range .Members}}
<tr data-member="{{.Member}}" data-safe="{{yesno .SafeToStop}}" data-caught-up="{{yesno .CaughtUp}}">
<td class="member mono" data-label="Member">{{.Name}}</td>
<td data-label="Role">{{.Role}}</td>
<td data-label="DC">{{dash .Datacenter}}</td>
<td data-label="Mode">{{.ModeText}}</td>
<td class="mono" data-label="Zxid">{{dash .Zxid}}</td>
<td data-label="Latency">{{lat .}}</td>
<td data-label="Serving" class="{{yesno .Serving}}">{{yesno .Serving}}</td>
<td data-label="Caught up" class="{{yesno .CaughtUp}}" title="{{.CaughtUpReason}}">{{yesno .CaughtUp}}</td>
<td data-label="Safe to stop"><div><span class="{{yesno .SafeToStop}}">{{safe .}}</span>{{if not .SafeToStop}}<br><span class="reason">{{.Reason}}</span>{{end}}</div></td>
</tr>{{end}}
</tbody>
</table>
{{with lines .}}<ul class="details">{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{end}}
</section>{{end}}{{end}}
`
