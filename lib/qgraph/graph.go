package qgraph

import (
	crand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/registry"
)

// Graph is a planned quantum graph. Build makes one in memory (compact,
// columnar: data IDs are packed keys, IDs are 16-byte arrays; the JSON of
// quanta and datasets is produced only when batches are written); Load
// reads a saved one back. Either way the graph is read through Header,
// Tasks, Waves, Batch and Quanta.
type Graph struct {
	Header Header
	// Waves lists the batches of each wave, in wave order.
	Waves [][]BatchItem

	tasks   []*taskInfo
	types   []*typeInfo
	typeIdx map[string]int32
	runs    []string // runs of datasets; 0 is the output run

	quanta   []quantum
	datasets []dataset
	edges    []edge
	batches  []batchInfo

	pl   *planner         // the planner that built it (nil for a loaded graph)
	fsch *registry.Schema // of the files table

	loaded []*Batch // a loaded graph's batches, in batch order

	prepOnce sync.Once
	prepErr  error
	remote   bool // saving to a remote store: more puts at once
}

// taskInfo is one task of a graph.
type taskInfo struct {
	node    *pipeline.TaskNode // nil for a loaded graph
	spec    TaskSpec
	dims    []string
	mask    uint64
	conns   []connInfo
	quanta  int
	skipped int
	pruned  int
}

// connInfo is one connection of a task, as planned.
type connInfo struct {
	c      pipeline.Connection
	typ    int32  // dataset type
	mask   uint64 // its dimensions
	subset bool   // its dimensions are among the task's: one ref per quantum
	direct bool   // a prerequisite keyed by the quantum's data ID (implied values included)
}

// typeInfo is one dataset type of a graph.
type typeInfo struct {
	name         string
	dims         []string // required dimensions, universe order
	mask         uint64
	storageClass string
	isCalib      bool
	producer     int32 // producing task; -1 for overall inputs and prerequisites

	out   *keyIndex // produced (or skipped-existing) datasets by key
	found *foundSet // overall inputs: find-first in the input search path
	tr    *typeRows // the registry's datasets of the type

	// outputs: how their files are named
	tmpl      *datastore.Template
	formatter string
	ext       string
	needsRecs bool             // the template uses element.field values
	intDims   []string         // dimensions with integer keys
	files     map[string]int32 // existing datasets: ID -> row of frows
	frows     []registry.Row
}

// dataset is one dataset of a graph: an existing one (src >= 0) or a
// predicted output (producer >= 0).
type dataset struct {
	typ      int32
	run      int32
	producer int32 // quantum, or -1
	src      int32 // position in typ.tr, or -1
	key      uint64
	id       [16]byte
}

// quantum is one quantum of a graph; its edges are edges[e0:e1].
type quantum struct {
	task  int32
	wave  int32
	batch int32
	e0    int32
	e1    int32
	key   uint64
	id    [16]byte
}

// edge connects a quantum to a dataset through a connection (an index
// into its task's conns).
type edge struct {
	conn int32
	ds   int32
}

// batchInfo is one batch: quanta[q0:q1] of the batch order.
type batchInfo struct {
	name   string
	wave   int
	task   int32
	quanta []int32
}

// idSource makes random (version 4) UUIDs quickly: ChaCha8 seeded from the
// system's secure generator.
type idSource struct{ r *rand.ChaCha8 }

func newIDSource() *idSource {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return &idSource{r: rand.NewChaCha8(seed)}
}

func (s *idSource) next() (id [16]byte) {
	_, _ = s.r.Read(id[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// appendUUID appends the canonical text of a UUID.
func appendUUID(b []byte, id [16]byte) []byte {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], id[10:])
	return append(b, buf[:]...)
}

func uuidString(id [16]byte) string { return string(appendUUID(nil, id)) }

// parseUUID parses canonical UUID text.
func parseUUID(s string) ([16]byte, bool) {
	var id [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	var hexs [32]byte
	copy(hexs[0:8], s[0:8])
	copy(hexs[8:12], s[9:13])
	copy(hexs[12:16], s[14:18])
	copy(hexs[16:20], s[19:23])
	copy(hexs[20:32], s[24:36])
	if _, err := hex.Decode(id[:], hexs[:]); err != nil {
		return id, false
	}
	return id, true
}

// NewGraphID returns a sortable unique graph ID: the UTC time to the
// second, then 12 random hex digits ("20260301T120000Z-3fa9c2d1e0b4").
func NewGraphID(now time.Time) string {
	var r [6]byte
	_, _ = crand.Read(r[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(r[:])
}

// softwareVersion is the module version of the running binary.
func softwareVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
		if v != "" {
			return v
		}
	}
	return "devel"
}

// Tasks returns the tasks of the graph, in pipeline order.
func (g *Graph) Tasks() []TaskSpec {
	out := make([]TaskSpec, len(g.tasks))
	for i, t := range g.tasks {
		out[i] = t.spec
	}
	return out
}

// NumBatches is the number of batches.
func (g *Graph) NumBatches() int {
	if g.loaded != nil {
		return len(g.loaded)
	}
	return len(g.batches)
}
