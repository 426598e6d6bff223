package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/ingest"
	"github.com/skybutler/skybutler/lib/objstore"
)

func (a *app) addIngest(root *cobra.Command) {
	root.AddCommand(a.ingestRawsCmd(), a.serveEventsCmd(), a.uploadCmd())
}

// uploadCmd emulates S3 on one machine: it copies files into a directory
// that stands for a bucket and posts the S3 event notification of each PUT
// to a serve-events listener, as S3 (or versitygw) would.
func (a *app) uploadCmd() *cobra.Command {
	var notify, bucket, prefix string
	cmd := &cobra.Command{
		Use:   "upload (BUCKET_DIR --notify URL | s3://BUCKET) FILE...",
		Short: "Upload files: PUT them to s3://BUCKET/uploads/..., or copy them into a local directory bucket and post their S3 event notifications",
		Args:  argsUsage(2, "skybutler upload (BUCKET_DIR --notify http://127.0.0.1:PORT/ | s3://BUCKET) FILE... [--prefix uploads/]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.HasPrefix(args[0], "s3://") {
				// A real S3 server sends its own notifications.
				store, err := objstore.Open(cmd.Context(), strings.TrimSuffix(args[0], "/"))
				if err != nil {
					return err
				}
				for _, f := range args[1:] {
					data, err := os.ReadFile(f)
					if err != nil {
						return err
					}
					if _, err := store.Put(cmd.Context(), prefix+filepath.Base(f), data); err != nil {
						return err
					}
				}
				fmt.Fprintf(a.out, "Uploaded %d files to %s/%s.\n", len(args)-1, strings.TrimSuffix(args[0], "/"), prefix)
				return nil
			}
			if notify == "" {
				return fmt.Errorf("upload: --notify URL is required")
			}
			if bucket == "" {
				bucket = filepath.Base(args[0])
			}
			var records []map[string]any
			for _, f := range args[1:] {
				data, err := os.ReadFile(f)
				if err != nil {
					return err
				}
				key := prefix + filepath.Base(f)
				dst := filepath.Join(args[0], filepath.FromSlash(key))
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(dst, data, 0o644); err != nil {
					return err
				}
				sum := md5.Sum(data)
				records = append(records, map[string]any{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
					"eventTime": time.Now().UTC().Format(time.RFC3339Nano),
					"s3": map[string]any{"bucket": map[string]any{"name": bucket},
						"object": map[string]any{"key": url.QueryEscape(key), "size": len(data), "eTag": hex.EncodeToString(sum[:])}}})
			}
			// One notification per object, as S3 sends them, posted concurrently.
			var wg sync.WaitGroup
			errs := make(chan error, len(records))
			sem := make(chan struct{}, 16)
			for _, r := range records {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					body, _ := json.Marshal(map[string]any{"Records": []any{r}})
					resp, err := http.Post(notify, "application/json", bytes.NewReader(body))
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
					if resp.StatusCode >= 300 {
						errs <- fmt.Errorf("notify %s: %s", notify, resp.Status)
					}
				}()
			}
			wg.Wait()
			close(errs)
			if err := <-errs; err != nil {
				return err
			}
			fmt.Fprintf(a.out, "Uploaded %d files to %s (bucket %s) and notified %s.\n", len(records), args[0], bucket, notify)
			return nil
		},
	}
	cmd.Flags().StringVar(&notify, "notify", "", "serve-events URL to post the event notifications to")
	cmd.Flags().StringVar(&bucket, "bucket", "", "bucket name in the events (default: the directory's name)")
	cmd.Flags().StringVar(&prefix, "prefix", "uploads/", "key prefix of the uploaded objects")
	return cmd
}

func (a *app) newHandler(cmd *cobra.Command, b *butler.Butler, transfer, run string) (*ingest.Handler, error) {
	mode, err := butler.ParseTransfer(transfer)
	if err != nil {
		return nil, err
	}
	h, err := ingest.NewHandler(cmd.Context(), b)
	if err != nil {
		return nil, err
	}
	h.Transfer, h.Logger = mode, a.logger
	if run != "" {
		h.Run = func(*ingest.Translation) string { return run }
	}
	return h, nil
}

func (a *app) ingestRawsCmd() *cobra.Command {
	var transfer, run, format string
	cmd := &cobra.Command{
		Use:   "ingest-raws REPO FILE_OR_URI...",
		Short: "Ingest raw FITS files: data ID and records translated from their headers",
		Long: `Each argument is a FITS file, a directory (its *.fits files, recursively), an
s3://bucket/key object or an s3://bucket/prefix/ (every object under it). Only
the header blocks are read (ranged GETs on S3). The instrument is recognised by
the translation rules of the registered instrument definitions. Files already
ingested are skipped; bad files are reported and the others ingested.`,
		Args: argsUsage(2, "skybutler ingest-raws REPO FILE_OR_URI... [--transfer copy|move|link|symlink|direct|auto] [--output-run RUN]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := a.open(cmd, args[0])
			if err != nil {
				return err
			}
			h, err := a.newHandler(cmd, b, transfer, run)
			if err != nil {
				return err
			}
			srcs, err := expandSources(cmd.Context(), args[1:])
			if err != nil {
				return err
			}
			outcomes, err := h.Ingest(cmd.Context(), srcs)
			if err != nil {
				return err
			}
			counts := map[string]int{}
			t := table{cols: []string{"source", "error"}}
			for _, o := range outcomes {
				counts[o.Status]++
				if o.Status == ingest.Failed {
					t.rows = append(t.rows, []any{o.Source, o.Error})
				}
			}
			if format == "json" {
				enc := json.NewEncoder(a.out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(outcomes); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.out, "Ingested %d, already present %d, failed %d.\n", counts[ingest.Ingested], counts[ingest.Skipped], counts[ingest.Failed])
				if len(t.rows) > 0 {
					if err := printTable(a.out, "table", t); err != nil {
						return err
					}
				}
			}
			if counts[ingest.Failed] > 0 {
				return fmt.Errorf("ingest-raws: %d of %d files failed", counts[ingest.Failed], len(outcomes))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&transfer, "transfer", "copy", "copy, move, link, symlink, direct or auto")
	cmd.Flags().StringVar(&run, "output-run", "", "RUN to ingest into (default <instrument>/raw/all)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

// expandSources turns arguments into files: directories into their FITS
// files, s3://bucket/prefix/ into the objects under it.
func expandSources(ctx context.Context, args []string) ([]ingest.Source, error) {
	var out []ingest.Source
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "s3://") && strings.HasSuffix(a, "/"):
			bucket, prefix, _ := strings.Cut(strings.TrimPrefix(a, "s3://"), "/")
			store, err := objstore.Open(ctx, "s3://"+bucket)
			if err != nil {
				return nil, err
			}
			objs, err := objstore.ListAll(ctx, store, prefix)
			if err != nil {
				return nil, err
			}
			for _, o := range objs {
				out = append(out, ingest.Source{URI: "s3://" + bucket + "/" + o.Key})
			}
		case strings.Contains(a, "://"):
			out = append(out, ingest.Source{URI: a})
		default:
			info, err := os.Stat(a)
			if err != nil {
				return nil, err
			}
			if !info.IsDir() {
				out = append(out, ingest.Source{URI: a})
				continue
			}
			err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".fits") || strings.HasSuffix(p, ".fits.fz") || strings.HasSuffix(p, ".fit")) {
					out = append(out, ingest.Source{URI: p})
				}
				return err
			})
			if err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no files to ingest in %s", strings.Join(args, " "))
	}
	return out, nil
}

func (a *app) serveEventsCmd() *cobra.Command {
	var listen, transfer, run, prefix string
	var localBuckets []string
	var window time.Duration
	var maxBatch int
	cmd := &cobra.Command{
		Use:   "serve-events REPO --listen 127.0.0.1:PORT",
		Short: "Ingest uploads from S3 event notifications posted over HTTP (e.g. versitygw --event-webhook-url)",
		Long: `Accepts POSTed S3 event notifications (plain, SQS-wrapped or EventBridge)
and ingests the created objects like ingest-raws. Events arriving within
--batch-window are ingested in one commit. The response is the JSON list of
outcomes; status 500 means the batch could not be committed (retry).`,
		Args: exactArgsUsage(1, "skybutler serve-events REPO --listen 127.0.0.1:PORT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := butler.ParseTransfer(transfer); err != nil {
				return err
			}
			// The repository is opened on the first event that needs it, so
			// that the listener can be up before the S3 server that posts to
			// it (versitygw checks its webhook when it starts).
			var mu sync.Mutex
			var h *ingest.Handler
			handler := func() (*ingest.Handler, error) {
				mu.Lock()
				defer mu.Unlock()
				if h != nil {
					return h, nil
				}
				b, err := a.open(cmd, args[0])
				if err != nil {
					return nil, err
				}
				if h, err = a.newHandler(cmd, b, transfer, run); err != nil {
					h = nil
					return nil, err
				}
				h.Prefix = prefix
				h.LocalBuckets = map[string]string{}
				for _, lb := range localBuckets {
					name, dir, ok := strings.Cut(lb, "=")
					if !ok || name == "" || dir == "" {
						return nil, fmt.Errorf("--local-bucket %q: want NAME=DIR", lb)
					}
					abs, err := filepath.Abs(dir)
					if err != nil {
						return nil, err
					}
					h.LocalBuckets[name] = abs
				}
				return h, nil
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			bt := newBatcher(handler, window, maxBatch)
			srv := &http.Server{Handler: bt.mux(), ReadHeaderTimeout: 10 * time.Second}
			ctx := cmd.Context()
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(sctx)
			}()
			fmt.Fprintf(a.out, "Listening on http://%s for S3 event notifications into %s\n", ln.Addr(), args[0])
			go bt.loop(ctx)
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8089", "address to listen on")
	cmd.Flags().StringVar(&transfer, "transfer", "copy", "copy, move, link, symlink, direct or auto")
	cmd.Flags().StringVar(&run, "output-run", "", "RUN to ingest into (default <instrument>/raw/all)")
	cmd.Flags().StringArrayVar(&localBuckets, "local-bucket", nil, "NAME=DIR: events for bucket NAME read objects from the local directory DIR (see upload)")
	cmd.Flags().StringVar(&prefix, "prefix", "uploads/", "only ingest objects whose key starts with this (\"\" for all)")
	cmd.Flags().DurationVar(&window, "batch-window", 200*time.Millisecond, "collect events this long into one commit")
	cmd.Flags().IntVar(&maxBatch, "batch-size", 200, "at most this many events per commit")
	return cmd
}

// batcher groups events from concurrent requests into one ingest commit.
type batcher struct {
	handler func() (*ingest.Handler, error)
	window  time.Duration
	max     int
	pending chan *request

	mu    sync.Mutex
	stats serveStats
}

// serveStats is what GET /status reports: events received and done, and
// the outcomes so far.
type serveStats struct {
	Received int            `json:"events_received"`
	Done     int            `json:"events_done"`
	Batches  int            `json:"batches"`
	Errors   int            `json:"batch_errors"`
	Outcomes map[string]int `json:"outcomes"`
}

type request struct {
	events []ingest.ObjectEvent
	done   chan batchResult
}

type batchResult struct {
	outcomes []ingest.Outcome
	err      error
}

func newBatcher(handler func() (*ingest.Handler, error), window time.Duration, max int) *batcher {
	if max <= 0 {
		max = 200
	}
	return &batcher{handler: handler, window: window, max: max, pending: make(chan *request, 1024)}
}

func (bt *batcher) mux() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	m.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		bt.mu.Lock()
		defer bt.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(bt.stats)
	})
	m.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		events, err := ingest.ParseEvents(body)
		if err != nil {
			slog.Warn("serve-events: unparsable notification", "err", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		bt.mu.Lock()
		bt.stats.Received += len(events)
		bt.mu.Unlock()
		if len(events) == 0 { // a test event: nothing to do
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"outcomes":[]}`+"\n")
			return
		}
		req := &request{events: events, done: make(chan batchResult, 1)}
		select {
		case bt.pending <- req:
		case <-r.Context().Done():
			return
		}
		res := <-req.done
		w.Header().Set("Content-Type", "application/json")
		if res.err != nil {
			w.WriteHeader(http.StatusInternalServerError)
		}
		json.NewEncoder(w).Encode(map[string]any{"outcomes": res.outcomes, "error": errString(res.err)})
	})
	return m
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// loop collects requests for up to window (or max events) and ingests them
// in one commit, then answers each request with its own outcomes.
func (bt *batcher) loop(ctx context.Context) {
	for {
		var batch []*request
		select {
		case <-ctx.Done():
			return
		case r := <-bt.pending:
			batch = append(batch, r)
		}
		n := len(batch[0].events)
		timer := time.NewTimer(bt.window)
	collect:
		for n < bt.max {
			select {
			case r := <-bt.pending:
				batch = append(batch, r)
				n += len(r.events)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		var events []ingest.ObjectEvent
		for _, r := range batch {
			events = append(events, r.events...)
		}
		var outcomes []ingest.Outcome
		h, err := bt.handler()
		if err == nil {
			outcomes, err = h.HandleEvents(ctx, events)
		}
		bt.mu.Lock()
		bt.stats.Batches++
		bt.stats.Done += len(events)
		if err != nil {
			bt.stats.Errors++
		}
		if bt.stats.Outcomes == nil {
			bt.stats.Outcomes = map[string]int{}
		}
		for _, o := range outcomes {
			bt.stats.Outcomes[o.Status]++
		}
		bt.mu.Unlock()
		bySource := map[string][]ingest.Outcome{}
		for _, o := range outcomes {
			bySource[o.Source] = append(bySource[o.Source], o)
		}
		for _, r := range batch {
			var mine []ingest.Outcome
			for _, ev := range r.events {
				uri := "s3://" + ev.Bucket + "/" + ev.Key
				if got := bySource[uri]; len(got) > 0 {
					mine = append(mine, got[0])
					if len(got) > 1 {
						bySource[uri] = got[1:]
					}
				}
			}
			r.done <- batchResult{outcomes: mine, err: err}
		}
	}
}
