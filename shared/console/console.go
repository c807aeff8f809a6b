// Package console holds the web console's static files (contract §13): plain HTML, CSS and a
// small script, no framework, calling the same API as everyone else. The local gateway serves them
// at /console/; in AWS they are uploaded to S3 behind CloudFront.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// Files are the console's files, rooted at static/.
func Files() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree always has it
	}
	return sub
}

// Handler serves the console under prefix (e.g. "/console/"), with headers that keep it to itself:
// no framing, no sniffing, scripts and styles from its own origin only, no referrer to other sites.
func Handler(prefix string) http.Handler {
	fileServer := http.StripPrefix(prefix, http.FileServer(http.FS(Files())))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.URL.Path == strings.TrimSuffix(prefix, "/") {
			http.Redirect(w, r, prefix, http.StatusMovedPermanently)
			return
		}
		fileServer.ServeHTTP(w, r)
	})
}
