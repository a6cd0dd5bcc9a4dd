// Package static embeds Sherpa's front-end files (htmx, Pico CSS, the app's
// own CSS and JavaScript) so the binary needs nothing beside it. URL gives
// each file a content-hashed address so browsers may cache it for a year.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

//go:embed *.css *.js *.svg
var files embed.FS

// FS is the embedded file system served under /static/.
var FS fs.FS = files

var versions = map[string]string{}

func init() {
	entries, _ := fs.ReadDir(files, ".")
	for _, e := range entries {
		b, err := fs.ReadFile(files, e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		versions[e.Name()] = hex.EncodeToString(sum[:6])
	}
}

// URL returns the cache-busting address of an embedded file.
func URL(name string) string {
	return "/static/" + name + "?v=" + versions[name]
}
