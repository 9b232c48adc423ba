package httpapi

import "net/http"

const indexPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:4rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.6rem;margin-bottom:.25rem} code{background:#f1f3f5;padding:.1rem .3rem;border-radius:3px}
a{color:#1c5fd4} a:focus{outline:3px solid #f0b429;outline-offset:2px}
</style>
</head>
<body>
<main>
<h1>Herald</h1>
<p>Herald runs your SQL reports on a schedule, in your time zone, renders them as CSV and PDF,
stores the files and delivers them, and keeps a record of every run, file, delivery and change.</p>
<p>The dashboard is on its way. Meanwhile everything is reachable through the HTTP API:</p>
<ul>
<li><a href="/api/openapi.json">API description (OpenAPI 3.1)</a></li>
<li><a href="/healthz">Health</a> and <a href="/readyz">readiness</a></li>
</ul>
<p>Call the API with <code>Authorization: Bearer &lt;token&gt;</code>; <code>herald token --tenant demo --role admin</code> prints one.</p>
</main>
</body>
</html>
`

func serveIndex(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write([]byte(indexPage))
}
