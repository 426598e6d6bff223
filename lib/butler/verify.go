package butler

import (
	"context"
	"errors"
	"fmt"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/registry"
)

// Problem is one inconsistency verify found between the registry and the
// stored files.
type Problem struct {
	DatasetID   string `json:"dataset_id"`
	DatasetType string `json:"dataset_type"`
	URI         string `json:"uri"`
	Kind        string `json:"problem"` // missing, size, checksum, unreadable
	Detail      string `json:"detail"`
}

// Verify checks the files of the given datasets: each must exist with the
// recorded size and, with full, the recorded checksum (bit rot).
func (b *Butler) Verify(ctx context.Context, snap *registry.Snapshot, refs []registry.DatasetRef, full bool) ([]Problem, int, error) {
	byType := map[string][]registry.DatasetRef{}
	seen := map[string]bool{} // a dataset may be found in several collections
	for _, r := range refs {
		if !seen[r.ID] {
			seen[r.ID] = true
			byType[r.DatasetType] = append(byType[r.DatasetType], r)
		}
	}
	var problems []Problem
	checked := 0
	for dt, rs := range byType {
		recs, err := snap.FileRecords(ctx, dt)
		if err != nil {
			return nil, 0, err
		}
		for _, ref := range rs {
			for _, f := range recs[ref.ID] {
				checked++
				p := Problem{DatasetID: ref.ID, DatasetType: dt, URI: f.URI}
				store, key, err := b.fileLocation(ctx, f.URI)
				if err != nil {
					p.Kind, p.Detail = "unreadable", err.Error()
					problems = append(problems, p)
					continue
				}
				info, err := store.Stat(ctx, key)
				switch {
				case errors.Is(err, objstore.ErrNotFound):
					p.Kind, p.Detail = "missing", "no file at "+key
				case err != nil:
					p.Kind, p.Detail = "unreadable", err.Error()
				case info.Size != f.Size:
					p.Kind, p.Detail = "size", fmt.Sprintf("%d bytes, registry says %d", info.Size, f.Size)
				case full && isETagChecksum(f.Checksum):
					if "etag:"+trimQuotes(info.ETag) != f.Checksum {
						p.Kind, p.Detail = "checksum", fmt.Sprintf("ETag %s, registry says %s", info.ETag, f.Checksum)
					}
				case full && f.Checksum != "":
					data, err := store.Get(ctx, key)
					if err != nil {
						p.Kind, p.Detail = "unreadable", err.Error()
					} else if err := datastore.VerifyChecksum(data, f.Checksum); err != nil {
						p.Kind, p.Detail = "checksum", err.Error()
					}
				}
				if p.Kind != "" {
					problems = append(problems, p)
				}
			}
		}
	}
	return problems, checked, nil
}

func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
