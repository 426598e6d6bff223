package butler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/skybutler/skybutler/lib/objstore"
)

// DatastorePrefix is where dataset files live inside a repository.
const DatastorePrefix = "datastore/"

// IsAbsoluteURI reports whether a file record's URI points outside the
// datastore (direct ingest) rather than being relative to it.
func IsAbsoluteURI(uri string) bool {
	return strings.Contains(uri, "://")
}

// openObject resolves a URI or local path of one object into a store rooted
// at its directory and the object's key in it.
func openObject(ctx context.Context, uri string) (objstore.Store, string, error) {
	if !strings.Contains(uri, "://") {
		abs, err := filepath.Abs(uri)
		if err != nil {
			return nil, "", err
		}
		uri = "file://" + filepath.ToSlash(abs)
	}
	i := strings.LastIndex(uri, "/")
	dir, key := uri[:i], uri[i+1:]
	if key == "" || strings.HasSuffix(dir, ":/") || strings.HasSuffix(dir, ":") {
		return nil, "", fmt.Errorf("%q does not name a file", uri)
	}
	if strings.HasPrefix(uri, "s3://") && strings.Count(dir, "/") == 2 {
		// s3://bucket/key: the bucket root.
		dir = uri[:i]
	}
	if dir == "file://" {
		dir = "file:///"
	}
	store, err := objstore.Open(ctx, dir)
	if err != nil {
		return nil, "", err
	}
	return store, key, nil
}

// readURI reads a whole object named by URI or local path. Local files are
// read directly (opening a file store on a user's directory would add its
// bookkeeping directories there).
func readURI(ctx context.Context, uri string) ([]byte, error) {
	if p, ok := localPath(uri); ok {
		return os.ReadFile(p)
	}
	store, key, err := openObject(ctx, uri)
	if err != nil {
		return nil, err
	}
	return store.Get(ctx, key)
}

// localPath returns the local file system path of a plain path or file://
// URI.
func localPath(uri string) (string, bool) {
	if strings.HasPrefix(uri, "file://") {
		return strings.TrimPrefix(uri, "file://"), true
	}
	if strings.Contains(uri, "://") {
		return "", false
	}
	return uri, true
}

// fileLocation returns the store and key of a dataset file.
func (b *Butler) fileLocation(ctx context.Context, uri string) (objstore.Store, string, error) {
	if IsAbsoluteURI(uri) {
		return openObject(ctx, uri)
	}
	return b.Store, DatastorePrefix + uri, nil
}
