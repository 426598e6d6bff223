package qgraph

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/skybutler/skybutler/lib/registry"
)

// Object keys of a stored graph, under ROOT/qgraphs/GRAPH_ID/.
const (
	Prefix = "qgraphs/"
)

// GraphKey is the compressed whole graph.
func GraphKey(graphID string) string { return Prefix + graphID + "/graph.json.zst" }

// WaveKey is the manifest of one wave: a JSON array of BatchItem, the
// Distributed Map ItemReader input.
func WaveKey(graphID string, wave int) string {
	return fmt.Sprintf("%s%s/waves/%04d.json", Prefix, graphID, wave)
}

// BatchKey is one self-contained batch object.
func BatchKey(graphID, batch string) string { return Prefix + graphID + "/batches/" + batch + ".json" }

// ManifestKey lists the waves of a graph and a summary (Header).
func ManifestKey(graphID string) string { return Prefix + graphID + "/manifest.json" }

// Header describes a graph: how it was planned and where its results go.
type Header struct {
	GraphID     string    `json:"graph_id"`
	Created     time.Time `json:"created"`
	Repo        string    `json:"repo"`             // repository root URI
	Pipeline    string    `json:"pipeline"`         // pipeline file#selector as given
	Inputs      []string  `json:"inputs"`           // input collections, as given (-i)
	OutputRun   string    `json:"output_run"`       // the RUN outputs are written to
	Output      string    `json:"output"`           // the CHAINED output collection ("" with --output-run only)
	DataQuery   string    `json:"data_query"`       // -d
	Waves       int       `json:"waves"`            // number of waves
	Batches     int       `json:"batches"`          // number of batches
	Quanta      int       `json:"quanta"`           // number of quanta
	TaskQuanta  []TaskSum `json:"tasks"`            // per task, in pipeline order
	SkipExisted int       `json:"skip_existing"`    // quanta dropped by --skip-existing-in
	Pruned      int       `json:"pruned,omitempty"` // quanta left out for lack of a required input
	Version     string    `json:"software_version"`
}

// TaskSum counts the quanta of one task.
type TaskSum struct {
	Label  string         `json:"label"`
	Class  string         `json:"class"`
	Quanta int            `json:"quanta"`
	Config map[string]any `json:"config,omitempty"` // the resolved config (merge writes it as <label>_config)
}

// BatchItem is one entry of a wave manifest.
type BatchItem struct {
	GraphID string `json:"graph_id"`
	Batch   string `json:"batch"`
	Key     string `json:"key"` // object key of the batch, relative to the repository root
	Wave    int    `json:"wave"`
	Quanta  int    `json:"quanta"`
}

// Batch is everything an executor needs to run some quanta of one wave
// without reading the registry: the tasks' classes and configs, the quanta,
// and every dataset they read (with its datastore record) or write (with
// its predicted datastore path).
type Batch struct {
	GraphID   string                 `json:"graph_id"`
	Batch     string                 `json:"batch"`
	Wave      int                    `json:"wave"`
	Repo      string                 `json:"repo"`
	OutputRun string                 `json:"output_run"`
	Tasks     map[string]TaskSpec    `json:"tasks"` // by label
	Quanta    []Quantum              `json:"quanta"`
	Datasets  map[string]DatasetSpec `json:"datasets"` // by dataset ID
}

// TaskSpec is one task of the pipeline as planned.
type TaskSpec struct {
	Label      string         `json:"label"`
	Class      string         `json:"class"`
	Config     map[string]any `json:"config"`
	Dimensions []string       `json:"dimensions"`
	// Connections are the task's connections as the pipeline resolved
	// them (renamed dataset types, the automatic _config, _metadata and
	// _log included), in declaration order.
	Connections []ConnectionSpec `json:"connections,omitempty"`
}

// ConnectionSpec is one connection of a planned task.
type ConnectionSpec struct {
	Name          string   `json:"name"`
	Kind          string   `json:"kind"` // Input, PrerequisiteInput, Output, InitInput, InitOutput
	DatasetType   string   `json:"dataset_type"`
	StorageClass  string   `json:"storage_class"`
	Dimensions    []string `json:"dimensions,omitempty"`
	Multiple      bool     `json:"multiple,omitempty"`
	DeferLoad     bool     `json:"defer_load,omitempty"`
	IsCalibration bool     `json:"is_calibration,omitempty"`
	Minimum       int      `json:"minimum,omitempty"`
}

// Quantum is one execution of one task for one data ID. Connections map
// connection names to dataset IDs (keys of Batch.Datasets / the graph's
// datasets), in index order.
type Quantum struct {
	ID            string              `json:"id"`
	Task          string              `json:"task"` // label
	DataID        map[string]any      `json:"data_id"`
	Wave          int                 `json:"wave"`
	Inputs        map[string][]string `json:"inputs,omitempty"`
	Prerequisites map[string][]string `json:"prerequisites,omitempty"`
	InitInputs    map[string][]string `json:"init_inputs,omitempty"`
	Outputs       map[string][]string `json:"outputs,omitempty"`
	// Upstream are the IDs of the quanta that produce this quantum's inputs
	// (the graph's edges).
	Upstream []string `json:"upstream,omitempty"`
}

// DatasetSpec is one dataset of a graph: an existing input (File set:
// its datastore record) or a predicted output (URI set: its datastore
// path, relative to ROOT/datastore, from the file template; Formatter and
// StorageClass set).
type DatasetSpec struct {
	ID           string               `json:"id"`
	DatasetType  string               `json:"dataset_type"`
	Run          string               `json:"run"`
	DataID       map[string]any       `json:"data_id"`
	StorageClass string               `json:"storage_class"`
	Formatter    string               `json:"formatter,omitempty"`
	URI          string               `json:"uri,omitempty"`      // predicted outputs
	File         *registry.FileRecord `json:"file,omitempty"`     // existing inputs
	Producer     string               `json:"producer,omitempty"` // quantum ID, for outputs
}

// UnmarshalJSON decodes a quantum, giving its data ID values their
// registry types: JSON numbers that are integers become int64 (data ID keys
// are int64 or string), not float64.
func (q *Quantum) UnmarshalJSON(data []byte) error {
	type plain Quantum
	if err := json.Unmarshal(data, (*plain)(q)); err != nil {
		return err
	}
	intKeys(q.DataID)
	return nil
}

// UnmarshalJSON decodes a dataset spec, with integer data ID values as
// int64 (see Quantum.UnmarshalJSON).
func (d *DatasetSpec) UnmarshalJSON(data []byte) error {
	type plain DatasetSpec
	if err := json.Unmarshal(data, (*plain)(d)); err != nil {
		return err
	}
	intKeys(d.DataID)
	return nil
}

func intKeys(id map[string]any) {
	for k, v := range id {
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			id[k] = int64(f)
		}
	}
}
