package pipeline

import (
	"context"
	"errors"
	"log/slog"
)

// ErrNoWork is returned (wrapped) by a task that finds nothing to do for
// its quantum, like pipe_base's NoWorkFound: the quantum ends with status
// no_work, not failed, and its outputs are simply absent.
var ErrNoWork = errors.New("no work")

// TaskDef is a task class: what a pipeline's "class:" names. It is
// stateless; everything that varies between uses is in the Config.
type TaskDef interface {
	// Name is the registered class name, e.g. "skybutler.examples.IsrTask".
	Name() string
	// ConfigSchema lists the config fields with their types and defaults.
	ConfigSchema() ConfigSchema
	// Dimensions are the dimensions of the task's quanta for cfg.
	Dimensions(cfg Config) []string
	// Connections are the task's connections for cfg, with their default
	// dataset type names (the pipeline applies "connections.<name>"
	// renames) and without the automatic _config, _metadata and _log
	// connections the pipeline adds. Config may decide which connections
	// exist (IsrTask has no dark without doDark).
	Connections(cfg Config) []Connection
	// New makes a task ready to run quanta with cfg.
	New(cfg Config) (Task, error)
}

// ConfigValidator is implemented by task classes whose configs need
// checks beyond field types (value ranges, fields that depend on each
// other). The pipeline calls it after applying overrides and before
// Connections; an error wrapped in a *FieldError is reported at the line
// of that field's override.
type ConfigValidator interface {
	ValidateConfig(cfg Config) error
}

// FieldError blames one config field for an error of ValidateConfig.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Task runs quanta. One Task may run many quanta, one at a time.
type Task interface {
	// Run executes one quantum: it reads inputs and writes outputs through
	// b. Returning an error wrapping ErrNoWork reports no_work.
	Run(ctx context.Context, b QuantumButler, q QuantumContext) error
}

// QuantumContext describes the quantum being run.
type QuantumContext struct {
	Label  string         // the task's label in the pipeline
	DataID map[string]any // the quantum's data ID (the task's dimensions)
	Config Config         // the task's resolved config
	TmpDir string         // a private scratch directory, removed after the quantum
}

// QuantumButler is what a task sees of the butler while it runs one
// quantum: the datasets of its connections and nothing else. It is
// implemented by the quantum-backed butler of the executor. Connections
// are named by their connection (field) names, not dataset type names;
// index selects one ref of a Multiple connection and is 0 otherwise.
type QuantumButler interface {
	// Get reads an input (Input, PrerequisiteInput or InitInput).
	Get(ctx context.Context, connection string, index int) (any, error)
	// GetDeferred returns a handle that reads the input when asked; it is
	// how DeferLoad connections are read.
	GetDeferred(connection string, index int) DeferredHandle
	// Put writes an output. obj must be of a type of the connection's
	// storage class.
	Put(ctx context.Context, obj any, connection string, index int) error
	// Refs are the resolved refs of a connection: inputs that exist and
	// outputs to write, in a stable order (index order).
	Refs(connection string) []Ref
	// MarkInputUnused records that an input was not used, for provenance.
	MarkInputUnused(connection string, index int)
	// Log is the quantum's logger; its records become the <label>_log
	// dataset.
	Log() *slog.Logger
}

// Ref is a resolved dataset reference.
type Ref struct {
	DatasetType string
	DataID      map[string]any
	ID          string // dataset UUID
	Run         string
}

// DeferredHandle reads a deferred input.
type DeferredHandle interface {
	Get(ctx context.Context) (any, error)
}

// FileButler is implemented by quantum butlers that can hand out dataset
// files as they are stored, without reading them into memory: the exec
// task stages inputs and writes outputs with it. Butlers without it are
// served through the formatters of the connections' storage classes.
type FileButler interface {
	// StageInput copies the file of an input into dir and returns its
	// path; the file keeps its format (a FITS image stays a .fits file).
	StageInput(ctx context.Context, connection string, index int, dir string) (path string, err error)
	// PutFile stores the file at path as an output, unchanged; it must be
	// in the format of the connection's storage class's formatter.
	PutFile(ctx context.Context, path, connection string, index int) error
}
