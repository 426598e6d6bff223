package registry

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Object keys of the commit log.
const (
	logPrefix         = "registry/_log/"
	tablesPrefix      = "registry/tables/"
	lastCheckpointKey = logPrefix + "_last_checkpoint"
)

var commitKeyRE = regexp.MustCompile(`^registry/_log/(\d{20})\.json$`)

// commitKey is the object key of commit version v.
func commitKey(v int64) string { return fmt.Sprintf("%s%020d.json", logPrefix, v) }

// commitVersion parses a commit object key; ok is false for other keys
// (checkpoints, _last_checkpoint, temporaries).
func commitVersion(key string) (int64, bool) {
	m := commitKeyRE.FindStringSubmatch(key)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	return v, err == nil
}

// Commit is one entry of the log: the files each table gained and lost, the
// idempotency keys it carries and a summary of the operation. It is written
// last, after every data file it names, with PutIfAbsent: its existence is
// what makes the change visible.
type Commit struct {
	Version   int64          `json:"version"`
	ID        string         `json:"id"` // unique per attempt: recognises one's own commit after an ambiguous write
	Time      time.Time      `json:"timestamp"`
	Operation string         `json:"operation"`
	Summary   map[string]any `json:"summary,omitempty"`
	Txn       []string       `json:"txn,omitempty"`
	Tables    []TableEdit    `json:"tables,omitempty"` // sorted by table name
}

// TableEdit lists one table's added and removed data files.
type TableEdit struct {
	Table  string      `json:"table"`
	Add    []FileEntry `json:"add,omitempty"`
	Remove []string    `json:"remove,omitempty"` // paths of live files
}

// FileEntry is one immutable Parquet data file of a table.
type FileEntry struct {
	Path      string            `json:"path"` // key relative to the repository root
	Partition map[string]string `json:"partition,omitempty"`
	Rows      int64             `json:"rows"`
	Size      int64             `json:"size"`
}

var tableNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// decodeCommit parses and checks the self-consistency of commit object key.
// Anything unexpected is ErrCorrupt: a garbage commit must stop readers
// rather than be half-applied.
func decodeCommit(key string, data []byte) (*Commit, error) {
	v, ok := commitVersion(key)
	if !ok {
		return nil, Errorf(ErrCorrupt, "%s: not a commit key", key)
	}
	var c Commit
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, Errorf(ErrCorrupt, "%s: unreadable commit: %v", key, err)
	}
	if dec.More() {
		return nil, Errorf(ErrCorrupt, "%s: trailing data after commit", key)
	}
	if c.Version != v {
		return nil, Errorf(ErrCorrupt, "%s: commit says version %d", key, c.Version)
	}
	if c.ID == "" || c.Operation == "" {
		return nil, Errorf(ErrCorrupt, "%s: commit lacks id or operation", key)
	}
	seen := map[string]bool{}
	for _, te := range c.Tables {
		if !tableNameRE.MatchString(te.Table) || seen[te.Table] {
			return nil, Errorf(ErrCorrupt, "%s: bad or repeated table %q", key, te.Table)
		}
		seen[te.Table] = true
		prefix := tablesPrefix + te.Table + "/"
		for _, f := range te.Add {
			if !strings.HasPrefix(f.Path, prefix) || strings.Contains(f.Path, "..") || f.Rows < 0 || f.Size < 0 {
				return nil, Errorf(ErrCorrupt, "%s: table %s: bad file entry %q", key, te.Table, f.Path)
			}
		}
		for _, p := range te.Remove {
			if !strings.HasPrefix(p, prefix) {
				return nil, Errorf(ErrCorrupt, "%s: table %s: bad removed path %q", key, te.Table, p)
			}
		}
	}
	return &c, nil
}

func encodeCommit(c *Commit) ([]byte, error) {
	return json.MarshalIndent(c, "", " ")
}
