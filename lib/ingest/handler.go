package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/objstore"
	"github.com/skybutler/skybutler/lib/registry"
)

// Source is one file to ingest by its header: a local path or URI, and the
// idempotency key of the upload it came from ("" for none).
type Source struct {
	URI    string
	TxnKey string
}

// Outcome is what became of one source.
type Outcome struct {
	Source    string `json:"source"`
	Status    string `json:"status"` // ingested, skipped (already ingested), failed, ignored
	DatasetID string `json:"dataset_id,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Outcome statuses.
const (
	Ingested = "ingested"
	Skipped  = "skipped"
	Failed   = "failed"
	Ignored  = "ignored"
)

// Handler ingests raw files into one repository: it reads each file's
// header (only the header blocks), translates it with the instrument
// definitions, and registers all the batch's datasets and dimension records
// in one commit. Bad files fail alone. It is the shared core of ingest-raws,
// serve-events and the ingest Lambda.
type Handler struct {
	Butler   *butler.Butler
	Set      *TranslatorSet
	Transfer butler.Transfer // default copy
	// Run names the RUN of a translated file (default "<instrument>/raw/all",
	// and "<instrument>/calib/ingest" for calibration frames).
	Run func(tr *Translation) string
	// Prefix, when set, limits event handling to object keys under it (the
	// uploads area, e.g. "uploads/"); other objects' events are ignored —
	// including those of the repository's own writes when it shares the bucket.
	Prefix string
	// LocalBuckets maps bucket names to local directories (file URIs or
	// paths): events for those buckets read the objects there. It lets
	// serve-events ingest uploads into a directory "bucket" on one machine.
	LocalBuckets map[string]string
	// Parallel header reads (default 16).
	Parallel int
	Logger   *slog.Logger
}

// NewHandler builds a Handler for a repository with the instrument
// definitions registered in it.
func NewHandler(ctx context.Context, b *butler.Butler) (*Handler, error) {
	defs, err := butler.InstrumentDefinitions(ctx, b)
	if err != nil {
		return nil, err
	}
	if len(defs) == 0 {
		return nil, registry.Errorf(registry.ErrNotFound, "%s has no registered instrument to translate headers with (register-instrument first)", b.URI)
	}
	set, err := NewTranslatorSetFromDefs(b.Registry.Universe(), defs...)
	if err != nil {
		return nil, err
	}
	return &Handler{Butler: b, Set: set}, nil
}

// DefaultRun is "<instrument>/raw/all" for raws and
// "<instrument>/calib/ingest" for calibration frames.
func DefaultRun(tr *Translation) string {
	if tr.Validity != nil || tr.DatasetType != "raw" {
		return tr.Instrument + "/calib/ingest"
	}
	return tr.Instrument + "/raw/all"
}

// HandleEvents ingests the objects of upload events. Events other than
// ObjectCreated are ignored; the same object twice in one batch is ingested
// once.
func (h *Handler) HandleEvents(ctx context.Context, events []ObjectEvent) ([]Outcome, error) {
	var srcs []Source
	var out []Outcome
	seen := map[string]bool{}
	for _, ev := range events {
		uri := "s3://" + ev.Bucket + "/" + ev.Key
		if dir, ok := h.LocalBuckets[ev.Bucket]; ok {
			uri = strings.TrimSuffix(dir, "/") + "/" + ev.Key
		}
		if !ev.Created() || !strings.HasPrefix(ev.Key, h.Prefix) {
			out = append(out, Outcome{Source: uri, Status: Ignored, Error: ev.EventName})
			continue
		}
		k := IngestKey(ev)
		if seen[k] {
			out = append(out, Outcome{Source: uri, Status: Skipped})
			continue
		}
		seen[k] = true
		srcs = append(srcs, Source{URI: uri, TxnKey: k})
	}
	res, err := h.Ingest(ctx, srcs)
	return append(res, out...), err
}

type translated struct {
	src Source
	tr  *Translation
	err error
}

// Ingest reads, translates and registers sources in one commit. The error
// is for the batch as a whole (the repository could not be written); a bad
// file is an Outcome with status failed.
func (h *Handler) Ingest(ctx context.Context, srcs []Source) ([]Outcome, error) {
	log := h.logger()
	results := make([]translated, len(srcs))
	par := h.Parallel
	if par <= 0 {
		par = 16
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for i, s := range srcs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i].src = s
			hdr, err := readSourceHeader(ctx, s.URI)
			if err != nil {
				results[i].err = err
				return
			}
			results[i].tr, results[i].err = h.Set.Translate(hdr)
		}()
	}
	wg.Wait()
	runFor := h.Run
	if runFor == nil {
		runFor = DefaultRun
	}
	var out []Outcome
	var files []butler.IngestFile
	setup := map[string]registry.DatasetType{}
	var runs []string
	for _, r := range results {
		if r.err != nil {
			log.Info("ingest: unreadable or unrecognised file", "key", r.src.URI, "err", r.err)
			out = append(out, Outcome{Source: r.src.URI, Status: Failed, Error: r.err.Error()})
			continue
		}
		run := runFor(r.tr)
		if !contains(runs, run) {
			runs = append(runs, run)
		}
		setup[r.tr.DatasetType] = registry.DatasetType{Name: r.tr.DatasetType, Dimensions: r.tr.Dimensions,
			StorageClass: "ExposureF", IsCalibration: r.tr.Validity != nil}
		files = append(files, butler.IngestFile{Source: r.src.URI, DatasetType: r.tr.DatasetType, DataID: r.tr.DataID,
			Run: run, Records: r.tr.Records, TxnKey: r.src.TxnKey})
	}
	if len(files) == 0 {
		return out, nil
	}
	if err := h.ensure(ctx, setup, runs); err != nil {
		return out, err
	}
	transfer := h.Transfer
	if transfer == "" {
		transfer = butler.TransferCopy
	}
	res, err := h.Butler.Ingest(ctx, files, butler.IngestOptions{Transfer: transfer, ContinueOnError: true})
	if err != nil {
		return out, err
	}
	bySource := map[string]registry.DatasetRef{}
	for i, ref := range res.Ingested {
		_ = i
		for _, f := range files {
			if registry.DeterministicID(ref.DatasetType, dimsOf(setup, ref.DatasetType), f.DataID, f.Run) == ref.ID {
				bySource[f.Source] = ref
			}
		}
	}
	failed := map[string]string{}
	for _, f := range res.Failed {
		failed[f.Source] = f.Error
	}
	skipped := map[string]bool{}
	for _, s := range res.Skipped {
		skipped[s] = true
	}
	for _, f := range files {
		switch {
		case failed[f.Source] != "":
			out = append(out, Outcome{Source: f.Source, Status: Failed, Error: failed[f.Source]})
		case skipped[f.Source]:
			out = append(out, Outcome{Source: f.Source, Status: Skipped})
		default:
			out = append(out, Outcome{Source: f.Source, Status: Ingested, DatasetID: bySource[f.Source].ID})
		}
	}
	log.Info("ingest batch committed", "version", res.Version, "ingested", len(res.Ingested), "skipped", len(res.Skipped), "failed", len(res.Failed)+len(srcs)-len(files))
	return out, nil
}

func dimsOf(setup map[string]registry.DatasetType, name string) []string {
	return setup[name].Dimensions
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// ensure registers missing dataset types and RUN collections in one commit
// (nothing when all exist).
func (h *Handler) ensure(ctx context.Context, types map[string]registry.DatasetType, runs []string) error {
	_, err := h.Butler.Registry.Commit(ctx, "ingest-setup", func(tx *registry.Tx) error {
		snap := tx.Snapshot()
		for _, dt := range types {
			if _, err := snap.DatasetType(ctx, dt.Name); err == nil {
				continue
			}
			if _, err := registry.RegisterDatasetType(tx, dt); err != nil {
				return err
			}
		}
		for _, run := range runs {
			c, err := snap.Collection(ctx, run)
			if err == nil {
				if c.Type != registry.Run {
					return registry.Errorf(registry.ErrConflict, "collection %q is %s, not RUN", run, c.Type)
				}
				continue
			}
			if !errors.Is(err, registry.ErrNotFound) {
				return err
			}
			if err := registry.RegisterCollection(tx, registry.Collection{Name: run, Type: registry.Run}); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// readSourceHeader reads the primary header of a local file or an object.
func readSourceHeader(ctx context.Context, uri string) (Header, error) {
	if !strings.Contains(uri, "://") {
		return ReadHeaderFromFile(uri)
	}
	if p, ok := strings.CutPrefix(uri, "file://"); ok {
		return ReadHeaderFromFile(p)
	}
	i := strings.LastIndex(uri, "/")
	rest := strings.TrimPrefix(uri, "s3://")
	bucket, key, ok := strings.Cut(rest, "/")
	if !strings.HasPrefix(uri, "s3://") || !ok || key == "" || i < 0 {
		return Header{}, fmt.Errorf("read header of %s: not a local path, file:// or s3:// URI", uri)
	}
	store, err := objstore.Open(ctx, "s3://"+bucket)
	if err != nil {
		return Header{}, err
	}
	return ReadHeaderFromStore(ctx, store, key)
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}
