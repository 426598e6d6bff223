package butler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/registry"
)

// Transfer says how an ingested file reaches the datastore (daf_butler's
// --transfer).
type Transfer string

// Transfer modes.
const (
	TransferCopy    Transfer = "copy"    // copy to its template path
	TransferMove    Transfer = "move"    // copy, then delete the source after the commit
	TransferLink    Transfer = "link"    // hard link (local files into a local repository)
	TransferSymlink Transfer = "symlink" // symbolic link (local files into a local repository)
	TransferDirect  Transfer = "direct"  // record the source URI itself; nothing is copied
	TransferAuto    Transfer = "auto"    // in place when already inside the datastore, else copy
)

// ParseTransfer checks a transfer mode.
func ParseTransfer(s string) (Transfer, error) {
	switch t := Transfer(s); t {
	case TransferCopy, TransferMove, TransferLink, TransferSymlink, TransferDirect, TransferAuto:
		return t, nil
	}
	return "", registry.Errorf(registry.ErrInvalid, "transfer %q: want copy, move, link, symlink, direct or auto", s)
}

// IngestFile is one file to register as a dataset.
type IngestFile struct {
	Source      string         // local path or URI (s3://bucket/key, file:///path)
	DatasetType string         //
	DataID      map[string]any //
	Run         string         //
	// Records are dimension records the file brings (the exposure, day_obs and
	// group of a raw); identical ones already registered are skipped.
	Records []dimensions.Record
	// TxnKey, when set, makes the ingest idempotent per key
	// (ingest:BUCKET/KEY@ETAG): a key already committed is skipped.
	TxnKey string
}

// IngestFailure is a file that could not be ingested, and why.
type IngestFailure struct {
	Source string `json:"source"`
	Err    error  `json:"-"`
	Error  string `json:"error"`
}

// IngestResult reports an ingest.
type IngestResult struct {
	Ingested []registry.DatasetRef
	Skipped  []string // sources already ingested (same dataset or txn key)
	Failed   []IngestFailure
	Version  int64
}

// IngestOptions refine Ingest.
type IngestOptions struct {
	Transfer Transfer
	// ContinueOnError: a bad file is reported in Failed and the others are
	// ingested; otherwise the first bad file fails the whole ingest.
	ContinueOnError bool
}

type ingestItem struct {
	IngestFile
	ref     registry.DatasetRef
	dt      registry.DatasetType
	rec     registry.FileRecord
	written string // datastore key this ingest wrote, "" if none
}

// Ingest registers existing files as datasets in one commit: files are
// transferred first, then the commit names them. Dataset IDs are the
// deterministic UUIDv5 of (type, data ID, run), so ingesting the same file
// twice, or retrying a failed ingest, never duplicates a dataset.
func (b *Butler) Ingest(ctx context.Context, files []IngestFile, opts IngestOptions) (IngestResult, error) {
	if opts.Transfer == "" {
		opts.Transfer = TransferAuto
	}
	var res IngestResult
	fail := func(src string, err error) error {
		if !opts.ContinueOnError {
			return fmt.Errorf("ingest %s: %w", src, err)
		}
		res.Failed = append(res.Failed, IngestFailure{Source: src, Err: err, Error: err.Error()})
		slog.Info("ingest failed", "key", src, "err", err)
		return nil
	}
	snap, err := b.Registry.Refresh(ctx)
	if err != nil {
		return res, err
	}
	var items []*ingestItem
	for _, f := range files {
		it, err := b.prepareIngest(ctx, snap, f, opts.Transfer)
		if err != nil {
			if ferr := fail(f.Source, err); ferr != nil {
				b.cleanupIngest(ctx, items)
				return res, ferr
			}
			continue
		}
		items = append(items, it)
	}
	// Commit; a file whose edit violates a constraint is dropped (or fails
	// the ingest) and the commit is tried again without it.
	for {
		bad, version, ingested, skipped, err := b.commitIngest(ctx, items)
		if err == nil {
			res.Ingested, res.Skipped, res.Version = ingested, skipped, version
			break
		}
		if bad == nil {
			b.cleanupIngest(ctx, items)
			return res, err
		}
		if ferr := fail(bad.Source, err); ferr != nil {
			b.cleanupIngest(ctx, items)
			return res, ferr
		}
		b.cleanupIngest(ctx, []*ingestItem{bad})
		items = without(items, bad)
	}
	if opts.Transfer == TransferMove {
		for _, it := range items {
			if err := removeSource(ctx, it.Source); err != nil {
				slog.Warn("could not remove moved source", "key", it.Source, "err", err)
			}
		}
	}
	return res, nil
}

func without(items []*ingestItem, bad *ingestItem) []*ingestItem {
	out := items[:0:0]
	for _, it := range items {
		if it != bad {
			out = append(out, it)
		}
	}
	return out
}

// itemError ties a commit-time error to the file that caused it.
type itemError struct {
	item *ingestItem
	err  error
}

func (e *itemError) Error() string { return e.err.Error() }
func (e *itemError) Unwrap() error { return e.err }

func (b *Butler) commitIngest(ctx context.Context, items []*ingestItem) (*ingestItem, int64, []registry.DatasetRef, []string, error) {
	var ingested []registry.DatasetRef
	var skipped []string
	res, err := b.Registry.Commit(ctx, "ingest", func(tx *registry.Tx) error {
		ingested, skipped = nil, nil
		var refs []registry.DatasetRef
		var recs []registry.FileRecord
		for _, it := range items {
			if it.TxnKey != "" {
				fresh, err := tx.AddTxn(it.TxnKey)
				if err != nil {
					return err
				}
				if !fresh {
					skipped = append(skipped, it.Source)
					continue
				}
			}
			if _, exists, err := tx.Snapshot().DatasetByID(ctx, it.ref.ID); err != nil {
				return err
			} else if exists {
				skipped = append(skipped, it.Source)
				continue
			}
			for _, group := range groupRecords(it.Records) {
				if _, err := registry.InsertDimensionRecords(tx, group[0].Element, group); err != nil {
					return &itemError{it, err}
				}
			}
			if _, err := registry.InsertDatasets(tx, []registry.DatasetRef{it.ref}, []registry.FileRecord{it.rec}, registry.InsertOptions{SkipExisting: true}); err != nil {
				return &itemError{it, err}
			}
			refs = append(refs, it.ref)
			recs = append(recs, it.rec)
		}
		ingested = refs
		tx.Summarize("datasets", len(refs))
		return nil
	})
	var ie *itemError
	if errors.As(err, &ie) {
		return ie.item, 0, nil, nil, ie.err
	}
	return nil, res.Version, ingested, skipped, err
}

func groupRecords(recs []dimensions.Record) [][]dimensions.Record {
	var out [][]dimensions.Record
	for i := 0; i < len(recs); {
		j := i
		for j < len(recs) && recs[j].Element == recs[i].Element {
			j++
		}
		out = append(out, recs[i:j])
		i = j
	}
	return out
}

// prepareIngest resolves one file: its dataset ref (deterministic ID), its
// datastore record, and — for copy/move/link — its transfer into the
// datastore (skipped when the dataset is already registered).
func (b *Butler) prepareIngest(ctx context.Context, snap *registry.Snapshot, f IngestFile, transfer Transfer) (*ingestItem, error) {
	dt, err := snap.DatasetType(ctx, f.DatasetType)
	if err != nil {
		return nil, err
	}
	lookup := recordLookup{snap: snap, extra: f.Records}
	id, err := b.Registry.Universe().NormalizeDataID(dt.Dimensions, f.DataID, lookup)
	if err != nil {
		return nil, registry.Errorf(registry.ErrInvalid, "%w", err)
	}
	ref := registry.DatasetRef{DatasetType: dt.Name, DataID: id, Run: f.Run}
	ref.ID = registry.DeterministicID(dt.Name, dt.Dimensions, id, f.Run)
	fm, err := b.formatter(dt)
	if err != nil {
		return nil, err
	}
	it := &ingestItem{IngestFile: f, ref: ref, dt: dt}
	it.rec = registry.FileRecord{DatasetID: ref.ID, Formatter: fm.Name(), StorageClass: dt.StorageClass}
	if _, exists, err := snap.DatasetByID(ctx, ref.ID); err != nil {
		return nil, err
	} else if exists {
		return it, nil // already ingested: the commit will skip it
	}
	if transfer == TransferAuto {
		transfer = TransferCopy
		if rel, ok := b.insideDatastore(f.Source); ok {
			it.rec.URI = rel
			transfer = ""
		}
	}
	switch transfer {
	case "":
		data, err := b.Store.Get(ctx, DatastorePrefix+it.rec.URI)
		if err != nil {
			return nil, err
		}
		it.rec.Size, it.rec.Checksum = int64(len(data)), datastore.Checksum(data)
	case TransferDirect:
		uri, size, sum, err := describeSource(ctx, f.Source)
		if err != nil {
			return nil, err
		}
		it.rec.URI, it.rec.Size, it.rec.Checksum = uri, size, sum
	default:
		path, err := b.FilePath(snap, dt, ref)
		if err != nil {
			return nil, err
		}
		path += extensionOf(f.Source, fm)
		if err := b.transferInto(ctx, f.Source, DatastorePrefix+path, transfer, &it.rec); err != nil {
			return nil, err
		}
		it.rec.URI = path
		it.written = DatastorePrefix + path
	}
	return it, nil
}

// extensionOf keeps the source's extension (".fits", ".fits.fz") when it has
// one, else uses the formatter's.
func extensionOf(src string, fm datastore.Formatter) string {
	base := src[strings.LastIndex(src, "/")+1:]
	if i := strings.Index(base, "."); i > 0 {
		return strings.ToLower(base[i:])
	}
	return fm.Extension()
}

// transferInto brings a source file to a datastore key and fills the size
// and checksum of rec.
func (b *Butler) transferInto(ctx context.Context, src, key string, mode Transfer, rec *registry.FileRecord) error {
	if mode == TransferLink || mode == TransferSymlink {
		local, ok := localPath(src)
		root, rok := localPath(b.URI)
		if !ok || !rok {
			return registry.Errorf(registry.ErrInvalid, "--transfer %s needs a local file and a local repository", mode)
		}
		data, err := os.ReadFile(local)
		if err != nil {
			return err
		}
		rec.Size, rec.Checksum = int64(len(data)), datastore.Checksum(data)
		dst := filepath.Join(root, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		_ = os.Remove(dst) // a leftover of an interrupted ingest
		abs, err := filepath.Abs(local)
		if err != nil {
			return err
		}
		if mode == TransferLink {
			return os.Link(abs, dst)
		}
		return os.Symlink(abs, dst)
	}
	data, err := readURI(ctx, src)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	rec.Size, rec.Checksum = int64(len(data)), datastore.Checksum(data)
	if _, err := b.Store.Put(ctx, key, data); err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, key, err)
	}
	return nil
}

// describeSource returns the URI, size and checksum of a file ingested in
// place: sha256 for local files; for objects in S3 the ETag ("etag:..."),
// which is what S3 itself guarantees without reading the object.
func describeSource(ctx context.Context, src string) (string, int64, string, error) {
	if p, ok := localPath(src); ok {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", 0, "", err
		}
		fh, err := os.Open(abs)
		if err != nil {
			return "", 0, "", err
		}
		defer fh.Close()
		sum, n, err := datastore.ChecksumReader(fh)
		if err != nil {
			return "", 0, "", err
		}
		return "file://" + filepath.ToSlash(abs), n, sum, nil
	}
	store, key, err := openObject(ctx, src)
	if err != nil {
		return "", 0, "", err
	}
	info, err := store.Stat(ctx, key)
	if err != nil {
		return "", 0, "", err
	}
	return src, info.Size, "etag:" + strings.Trim(info.ETag, `"`), nil
}

func isETagChecksum(s string) bool { return strings.HasPrefix(s, "etag:") }

// insideDatastore reports whether a source already lies in this
// repository's datastore, and its path relative to it.
func (b *Butler) insideDatastore(src string) (string, bool) {
	full := src
	if p, ok := localPath(src); ok && !strings.HasPrefix(src, "file://") {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", false
		}
		full = "file://" + filepath.ToSlash(abs)
	}
	prefix := strings.TrimSuffix(b.URI, "/") + "/" + DatastorePrefix
	if strings.HasPrefix(full, prefix) {
		return strings.TrimPrefix(full, prefix), true
	}
	return "", false
}

func removeSource(ctx context.Context, src string) error {
	if p, ok := localPath(src); ok {
		return os.Remove(p)
	}
	store, key, err := openObject(ctx, src)
	if err != nil {
		return err
	}
	return store.Delete(ctx, key)
}

// cleanupIngest deletes files an unsuccessful ingest wrote.
func (b *Butler) cleanupIngest(ctx context.Context, items []*ingestItem) {
	for _, it := range items {
		if it.written == "" {
			continue
		}
		if err := b.Store.Delete(context.WithoutCancel(ctx), it.written); err != nil && !errors.Is(err, objstore.ErrNotFound) {
			slog.Warn("could not remove the file of a failed ingest", "key", it.written, "err", err)
		}
	}
}

// recordLookup looks records up in a snapshot and then among records that
// arrive with the file being ingested.
type recordLookup struct {
	snap  *registry.Snapshot
	extra []dimensions.Record
}

func (l recordLookup) LookupRecord(element string, key dimensions.DataID) (dimensions.Record, bool, error) {
	for _, r := range l.extra {
		if r.Element != element {
			continue
		}
		match := true
		for k, v := range key {
			if r.Values[k] != v {
				match = false
				break
			}
		}
		if match {
			return r, true, nil
		}
	}
	return l.snap.LookupRecord(element, key)
}
