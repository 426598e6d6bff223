package qgraph

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/objstore"
)

// graphHead is the first line of a stored whole graph.
type graphHead struct {
	Format string        `json:"format"`
	Header Header        `json:"header"`
	Tasks  []TaskSpec    `json:"tasks"`
	Waves  [][]BatchItem `json:"waves"`
}

// GraphFormat names the format of the stored whole graph: zstd-compressed
// JSON lines, the first a head ({"format", "header", "tasks", "waves"}),
// then one batch object per line, in batch order.
const GraphFormat = "skybutler.qgraph/1"

// Save writes the graph under ROOT/qgraphs/GRAPH_ID/ of b's store, data
// first: the batch objects, the wave manifests, the compressed whole graph,
// and last the manifest (the header), whose presence says the graph is
// complete. Objects are written with PutIfAbsent: a graph is never
// overwritten, and saving it again (a retry) checks that the stored objects
// are the same.
func (g *Graph) Save(ctx context.Context, b *butler.Butler) error {
	if err := g.save(ctx, b.Store); err != nil {
		return fmt.Errorf("save quantum graph %s: %w", g.Header.GraphID, err)
	}
	return nil
}

func (g *Graph) save(ctx context.Context, store objstore.Store) error {
	g.remote = !strings.HasPrefix(store.URI(), "file://") && !strings.HasPrefix(store.URI(), "mem://")
	put := func(key string, data []byte) error { return putImmutable(ctx, store, key, data) }
	var whole chunks
	if err := g.writeAll(ctx, &whole, put); err != nil {
		return err
	}
	for w, items := range g.Waves {
		data, err := json.Marshal(items)
		if err != nil {
			return err
		}
		if err := put(WaveKey(g.Header.GraphID, w), data); err != nil {
			return err
		}
	}
	data := whole.Bytes()
	whole.parts = nil
	if err := put(GraphKey(g.Header.GraphID), data); err != nil {
		return err
	}
	manifest, err := json.MarshalIndent(g.Header, "", "  ")
	if err != nil {
		return err
	}
	return put(ManifestKey(g.Header.GraphID), manifest)
}

// WriteGraph writes the compressed whole graph (the content of
// graph.json.zst) to w, without touching any store.
func (g *Graph) WriteGraph(ctx context.Context, w io.Writer) error {
	if err := g.writeAll(ctx, w, nil); err != nil {
		return fmt.Errorf("write quantum graph %s: %w", g.Header.GraphID, err)
	}
	return nil
}

// putImmutable creates key; an existing object with the same content is
// fine (a retried save), another content is an error.
func putImmutable(ctx context.Context, store objstore.Store, key string, data []byte) error {
	_, err := store.PutIfAbsent(ctx, key, data)
	if !errors.Is(err, objstore.ErrPreconditionFailed) {
		return err
	}
	old, gerr := store.Get(ctx, key)
	if gerr != nil {
		return fmt.Errorf("put %s: %w (and reading it back: %v)", key, err, gerr)
	}
	if !bytes.Equal(old, data) {
		return fmt.Errorf("put %s: a different object exists there; graph objects are immutable", key)
	}
	return nil
}

// writeAll encodes every batch (in parallel), hands each to put (when not
// nil) and writes the compressed whole graph to w: the head, then one
// zstd frame per batch (frames are compressed in parallel; a zstd stream
// may be a concatenation of frames).
func (g *Graph) writeAll(ctx context.Context, w io.Writer, put func(key string, data []byte) error) error {
	if g.pl != nil {
		if err := g.prepare(ctx); err != nil {
			return err
		}
	}
	zenc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return err
	}
	defer zenc.Close()
	head, err := json.Marshal(graphHead{Format: GraphFormat, Header: g.Header, Tasks: g.Tasks(), Waves: g.Waves})
	if err != nil {
		return err
	}
	if _, err := w.Write(zenc.EncodeAll(append(head, '\n'), nil)); err != nil {
		return err
	}
	n := g.NumBatches()
	workers := max(runtime.GOMAXPROCS(0), 2)
	if put != nil && g.remote {
		workers = 32 // object puts to S3 wait on the network
	}
	window := 4 * workers
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make([]chan []byte, n)
	for i := range slots {
		slots[i] = make(chan []byte, 1)
	}
	jobs := make(chan int)
	tokens := make(chan struct{}, window)
	var firstErr error
	var errOnce sync.Once
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	go func() {
		defer close(jobs)
		for i := 0; i < n; i++ {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var bufs sync.Pool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var enc *encoder
			if g.pl != nil {
				enc = g.newEncoder()
			}
			for i := range jobs {
				buf, _ := bufs.Get().([]byte)
				data, err := g.batchJSON(enc, i, buf[:0])
				if err == nil && put != nil {
					err = put(BatchKey(g.Header.GraphID, g.batchName(i)), data)
				}
				if err != nil {
					fail(err)
					slots[i] <- nil
					continue
				}
				data = append(data, '\n')
				frame := zenc.EncodeAll(data, make([]byte, 0, len(data)/8))
				bufs.Put(data[:0]) //nolint:staticcheck // a slice header is fine here
				slots[i] <- frame
			}
		}()
	}
	for i := 0; i < n; i++ {
		var frame []byte
		select {
		case frame = <-slots[i]:
		case <-ctx.Done():
		}
		if frame == nil {
			break
		}
		if c, ok := w.(*chunks); ok {
			c.add(frame)
		} else if _, err := w.Write(frame); err != nil {
			fail(err)
			break
		}
		<-tokens
	}
	cancel()
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return nil
}

// chunks collects written bytes in large chunks (no copying as it grows).
type chunks struct {
	parts [][]byte
	n     int
}

func (c *chunks) Write(p []byte) (int, error) {
	c.parts = append(c.parts, slices.Clone(p))
	c.n += len(p)
	return len(p), nil
}

// add keeps p (which the caller gives up).
func (c *chunks) add(p []byte) {
	c.parts = append(c.parts, p)
	c.n += len(p)
}

func (c *chunks) Bytes() []byte {
	out := make([]byte, 0, c.n)
	for _, p := range c.parts {
		out = append(out, p...)
	}
	return out
}

func (g *Graph) batchName(i int) string {
	if g.loaded != nil {
		return g.loaded[i].Batch
	}
	return g.batches[i].name
}

// batchJSON returns the JSON of batch i.
func (g *Graph) batchJSON(enc *encoder, i int, buf []byte) ([]byte, error) {
	if g.loaded != nil {
		data, err := json.Marshal(g.loaded[i])
		return append(buf, data...), err
	}
	return enc.batch(buf, i)
}

// prepare runs prepareSave once.
func (g *Graph) prepare(ctx context.Context) error {
	g.prepOnce.Do(func() { g.prepErr = g.prepareSave(ctx) })
	return g.prepErr
}

// Batch returns batch i (in batch order: by wave, then task).
func (g *Graph) Batch(ctx context.Context, i int) (*Batch, error) {
	if i < 0 || i >= g.NumBatches() {
		return nil, fmt.Errorf("batch %d: the graph has %d", i, g.NumBatches())
	}
	if g.loaded != nil {
		return g.loaded[i], nil
	}
	if err := g.prepare(ctx); err != nil {
		return nil, err
	}
	data, err := g.newEncoder().batch(nil, i)
	if err != nil {
		return nil, err
	}
	var b Batch
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("batch %d: %w", i, err)
	}
	return &b, nil
}

// Quanta returns every quantum of the graph, in batch order.
func (g *Graph) Quanta(ctx context.Context) ([]Quantum, error) {
	var out []Quantum
	for i := range g.NumBatches() {
		b, err := g.Batch(ctx, i)
		if err != nil {
			return nil, err
		}
		out = append(out, b.Quanta...)
	}
	return out, nil
}

// Load reads a saved graph (its compressed whole graph).
func Load(ctx context.Context, store objstore.Store, graphID string) (*Graph, error) {
	g, err := load(ctx, store, graphID)
	if err != nil {
		return nil, fmt.Errorf("load quantum graph %s: %w", graphID, err)
	}
	return g, nil
}

func load(ctx context.Context, store objstore.Store, graphID string) (*Graph, error) {
	data, err := store.Get(ctx, GraphKey(graphID))
	if err != nil {
		return nil, err
	}
	g, err := ReadGraph(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if g.Header.GraphID != graphID {
		return nil, fmt.Errorf("%s holds graph %q", GraphKey(graphID), g.Header.GraphID)
	}
	return g, nil
}

// ReadGraph reads a compressed whole graph (as Save stores it and
// WriteGraph writes it).
func ReadGraph(r io.Reader) (*Graph, error) {
	zr, err := zstd.NewReader(r)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	br := bufio.NewReaderSize(zr, 1<<20)
	line, err := readLine(br)
	if err != nil {
		return nil, fmt.Errorf("read graph head: %w", err)
	}
	var head graphHead
	if err := json.Unmarshal(line, &head); err != nil {
		return nil, fmt.Errorf("graph head: %w", err)
	}
	if head.Format != GraphFormat {
		return nil, fmt.Errorf("graph format %q, want %q", head.Format, GraphFormat)
	}
	g := &Graph{Header: head.Header, Waves: head.Waves, loaded: []*Batch{}}
	for _, t := range head.Tasks {
		g.tasks = append(g.tasks, &taskInfo{spec: t, dims: t.Dimensions})
	}
	for {
		line, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read graph: %w", err)
		}
		var b Batch
		if err := json.Unmarshal(line, &b); err != nil {
			return nil, fmt.Errorf("graph batch %d: %w", len(g.loaded), err)
		}
		g.loaded = append(g.loaded, &b)
	}
	if len(g.loaded) != g.Header.Batches {
		return nil, fmt.Errorf("graph has %d batches, its header says %d", len(g.loaded), g.Header.Batches)
	}
	return g, nil
}

func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if err == io.EOF && len(line) > 0 {
		return line, nil
	}
	if err != nil {
		return nil, err
	}
	return line[:len(line)-1], nil
}

// LoadBatch reads one batch object (a Distributed Map item's key).
func LoadBatch(ctx context.Context, store objstore.Store, key string) (*Batch, error) {
	data, err := store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("load batch %s: %w", key, err)
	}
	var b Batch
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("load batch %s: %w", key, err)
	}
	if b.GraphID == "" || b.Batch == "" || b.OutputRun == "" {
		return nil, fmt.Errorf("load batch %s: not a batch object", key)
	}
	return &b, nil
}

// LoadHeader reads the manifest of a saved graph.
func LoadHeader(ctx context.Context, store objstore.Store, graphID string) (*Header, error) {
	data, err := store.Get(ctx, ManifestKey(graphID))
	if err != nil {
		return nil, fmt.Errorf("load graph manifest %s: %w", graphID, err)
	}
	var h Header
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("load graph manifest %s: %w", graphID, err)
	}
	return &h, nil
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
