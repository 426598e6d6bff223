package objstore

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Open returns the Store rooted at uri:
//
//   - s3://BUCKET[/PREFIX]: NewS3 with the standard AWS environment;
//   - file:///ABS/PATH (or file://localhost/ABS/PATH): NewFile;
//   - a plain path, absolute or relative to the working directory: NewFile.
//
// Other schemes are an error.
func Open(ctx context.Context, uri string) (Store, error) {
	if uri == "" {
		return nil, fmt.Errorf("open store: empty URI")
	}
	scheme, _, isURL := strings.Cut(uri, ":")
	// A one-letter "scheme" is a Windows drive; "s3:bucket" without "//"
	// is a malformed URL, not a relative path.
	if !isURL || len(scheme) < 2 || strings.ContainsAny(scheme, `/\.`) {
		return NewFile(uri)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("open store %s: query, fragment or user not allowed", uri)
	}
	switch u.Scheme {
	case "s3":
		if u.Host == "" || u.Opaque != "" {
			return nil, fmt.Errorf("open store %s: want s3://BUCKET/PREFIX", uri)
		}
		return NewS3(ctx, u.Host, u.Path)
	case "file":
		if u.Host != "" && u.Host != "localhost" || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
			return nil, fmt.Errorf("open store %s: want file:///ABSOLUTE/PATH", uri)
		}
		return NewFile(filepath.FromSlash(u.Path))
	}
	return nil, fmt.Errorf("open store %s: unsupported scheme %q (want s3://, file:// or a local path)", uri, u.Scheme)
}
