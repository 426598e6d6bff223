package execute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/skybutler/skybutler/lib/objstore"
)

// Statuses of a quantum.
const (
	Succeeded = "succeeded"
	Failed    = "failed"
	NoWork    = "no_work"
	Blocked   = "blocked"
)

// ProvenanceSchema names the document format (schemas/provenance.schema.json).
const ProvenanceSchema = "skybutler/provenance/v1"

// Provenance is the document an executed quantum leaves behind.
type Provenance struct {
	Schema          string         `json:"schema"`
	QuantumID       string         `json:"quantum_id"`
	GraphID         string         `json:"graph_id"`
	TaskLabel       string         `json:"task_label"`
	TaskClass       string         `json:"task_class"`
	DataID          map[string]any `json:"data_id"`
	Run             string         `json:"run"`
	Status          string         `json:"status"`
	Inputs          []InputProv    `json:"inputs"`
	Outputs         []OutputProv   `json:"outputs"`
	Start           time.Time      `json:"start"`
	End             time.Time      `json:"end"`
	Host            string         `json:"host"`
	LambdaRequestID string         `json:"lambda_request_id,omitempty"`
	MaxRSS          int64          `json:"max_rss_bytes"`
	CPUTime         float64        `json:"cpu_time_seconds"`
	SoftwareVersion string         `json:"software_version"`
	ErrorType       string         `json:"error_type,omitempty"`
	ErrorMessage    string         `json:"error_message,omitempty"`
	Attempt         int            `json:"attempt"`
}

// InputProv is one predicted input: whether it was there and whether the
// task actually used it.
type InputProv struct {
	DatasetID   string         `json:"dataset_id"`
	DatasetType string         `json:"dataset_type"`
	DataID      map[string]any `json:"data_id"`
	Run         string         `json:"run"`
	URI         string         `json:"uri"`
	Connection  string         `json:"connection"`
	Kind        string         `json:"kind"` // input, prerequisite, init_input
	Available   bool           `json:"available"`
	Actual      bool           `json:"actual"`
}

// OutputProv is one predicted output and, when written, its datastore record.
type OutputProv struct {
	DatasetID    string         `json:"dataset_id"`
	DatasetType  string         `json:"dataset_type"`
	DataID       map[string]any `json:"data_id"`
	URI          string         `json:"uri"`
	Connection   string         `json:"connection"`
	Actual       bool           `json:"actual"`
	Formatter    string         `json:"formatter,omitempty"`
	StorageClass string         `json:"storage_class"`
	Size         int64          `json:"size,omitempty"`
	Checksum     string         `json:"checksum,omitempty"`
}

// ProvenanceKey is where a quantum's provenance document lives.
func ProvenanceKey(run, quantumID string) string {
	return "provenance/" + run + "/" + quantumID + ".json"
}

// WriteProvenance stores a document (overwriting an earlier attempt's).
func WriteProvenance(ctx context.Context, store objstore.Store, p *Provenance) error {
	data, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		return err
	}
	key := ProvenanceKey(p.Run, p.QuantumID)
	if _, err := store.Put(ctx, key, data); err != nil {
		return fmt.Errorf("write provenance %s: %w", key, err)
	}
	return nil
}

// ReadProvenance loads a document; objstore.ErrNotFound when the quantum has
// not finished.
func ReadProvenance(ctx context.Context, store objstore.Store, run, quantumID string) (*Provenance, error) {
	key := ProvenanceKey(run, quantumID)
	data, err := store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return DecodeProvenance(key, data)
}

// DecodeProvenance parses and checks a document.
func DecodeProvenance(key string, data []byte) (*Provenance, error) {
	var p Provenance
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("provenance %s: %w", key, err)
	}
	if p.Schema != ProvenanceSchema || p.QuantumID == "" || p.Run == "" {
		return nil, fmt.Errorf("provenance %s: not a %s document", key, ProvenanceSchema)
	}
	switch p.Status {
	case Succeeded, Failed, NoWork, Blocked:
	default:
		return nil, fmt.Errorf("provenance %s: unknown status %q", key, p.Status)
	}
	return &p, nil
}

var errNotFinished = errors.New("not finished")
