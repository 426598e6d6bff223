package execute

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// logCapture is a slog handler that keeps a quantum's log records (for its
// <label>_log output) and passes them on to the process logger.
type logCapture struct {
	next  slog.Handler
	attrs []slog.Attr
	mu    *sync.Mutex
	recs  *[]map[string]any
}

func newLogCapture(next slog.Handler) *logCapture {
	return &logCapture{next: next, mu: &sync.Mutex{}, recs: &[]map[string]any{}}
}

func (h *logCapture) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h *logCapture) Handle(ctx context.Context, r slog.Record) error {
	rec := map[string]any{"time": r.Time.UTC().Format(time.RFC3339Nano), "level": r.Level.String(), "message": r.Message}
	for _, a := range h.attrs {
		rec[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	*h.recs = append(*h.recs, rec)
	h.mu.Unlock()
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *logCapture) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	c.next = h.next.WithAttrs(as)
	return &c
}

func (h *logCapture) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

func (h *logCapture) records() []any {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]any, len(*h.recs))
	for i, r := range *h.recs {
		out[i] = r
	}
	return out
}
