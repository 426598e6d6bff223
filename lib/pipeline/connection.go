package pipeline

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/yamlnode"
)

// ConnectionKind says how a task uses a connection's datasets.
type ConnectionKind int

// The connection kinds of pipe_base.
const (
	// Input: a dataset read by a quantum, found among the overall inputs or
	// produced by an upstream quantum.
	Input ConnectionKind = iota
	// PrerequisiteInput: a dataset read by a quantum that must already
	// exist before the pipeline runs (calibrations, reference catalogs); it
	// does not constrain which quanta exist and no task may produce it.
	PrerequisiteInput
	// Output: a dataset a quantum writes.
	Output
	// InitInput: a dataset read when the task is constructed (no
	// dimensions).
	InitInput
	// InitOutput: a dataset written once per task and run, before any
	// quantum (no dimensions), such as <label>_config.
	InitOutput
)

var kindNames = [...]string{"Input", "PrerequisiteInput", "Output", "InitInput", "InitOutput"}

func (k ConnectionKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ConnectionKind(%d)", int(k))
}

// ParseConnectionKind returns the kind named s (as String writes it,
// case-insensitive).
func ParseConnectionKind(s string) (ConnectionKind, error) {
	for i, n := range kindNames {
		if strings.EqualFold(n, s) {
			return ConnectionKind(i), nil
		}
	}
	return 0, fmt.Errorf("unknown connection kind %q (want one of %s)", s, strings.Join(kindNames[:], ", "))
}

// IsInput reports whether datasets of the kind are read (Input,
// PrerequisiteInput, InitInput).
func (k ConnectionKind) IsInput() bool {
	return k == Input || k == PrerequisiteInput || k == InitInput
}

// IsOutput reports whether datasets of the kind are written (Output,
// InitOutput).
func (k ConnectionKind) IsOutput() bool { return k == Output || k == InitOutput }

// IsInit reports whether the kind is InitInput or InitOutput.
func (k ConnectionKind) IsInit() bool { return k == InitInput || k == InitOutput }

// Connection is one dataset type a task reads or writes, under a name
// that is the task's own (pipe_base's connection field).
type Connection struct {
	Name          string // connection (field) name, e.g. "exposure"
	Kind          ConnectionKind
	DatasetType   string   // dataset type name; config "connections.<Name>" renames it
	StorageClass  string   // a registered storage class (lib/datastore)
	Dimensions    []string // dimensions of the dataset type (none for init-inputs and init-outputs)
	Multiple      bool     // a list of refs (fan-in, or fan-out for outputs)
	DeferLoad     bool     // read through QuantumButler.GetDeferred
	IsCalibration bool     // a prerequisite looked up in CALIBRATION collections by the quantum's timespan
	Minimum       int      // minimum number of refs of an input: 1 for a required input (NewInput sets it), 0 makes it optional; unused for outputs
	Doc           string
}

// NewInput returns a required Input connection (Minimum 1).
func NewInput(name, datasetType, storageClass string, dims ...string) Connection {
	return Connection{Name: name, Kind: Input, DatasetType: datasetType, StorageClass: storageClass, Dimensions: dims, Minimum: 1}
}

// NewPrerequisite returns a required PrerequisiteInput connection
// (Minimum 1).
func NewPrerequisite(name, datasetType, storageClass string, dims ...string) Connection {
	return Connection{Name: name, Kind: PrerequisiteInput, DatasetType: datasetType, StorageClass: storageClass, Dimensions: dims, Minimum: 1}
}

// NewOutput returns an Output connection.
func NewOutput(name, datasetType, storageClass string, dims ...string) Connection {
	return Connection{Name: name, Kind: Output, DatasetType: datasetType, StorageClass: storageClass, Dimensions: dims}
}

// NewInitInput returns a required InitInput connection (Minimum 1).
func NewInitInput(name, datasetType, storageClass string) Connection {
	return Connection{Name: name, Kind: InitInput, DatasetType: datasetType, StorageClass: storageClass, Minimum: 1}
}

// NewInitOutput returns an InitOutput connection.
func NewInitOutput(name, datasetType, storageClass string) Connection {
	return Connection{Name: name, Kind: InitOutput, DatasetType: datasetType, StorageClass: storageClass}
}

// Names of the automatic connections the pipeline adds to every task, and
// the suffixes of their dataset types (<label>_config, ...), as in
// pipe_base.
const (
	ConfigConnection   = "_config"   // InitOutput, storage class Config
	MetadataConnection = "_metadata" // Output, storage class TaskMetadata, the task's dimensions
	LogConnection      = "_log"      // Output, storage class ButlerLogRecords, the task's dimensions
)

// ConfigDatasetType, MetadataDatasetType and LogDatasetType name the
// automatic dataset types of the task labelled label.
func ConfigDatasetType(label string) string   { return label + ConfigConnection }
func MetadataDatasetType(label string) string { return label + MetadataConnection }
func LogDatasetType(label string) string      { return label + LogConnection }

func automaticConnections(label string, dims []string) []Connection {
	return []Connection{
		{Name: ConfigConnection, Kind: InitOutput, DatasetType: ConfigDatasetType(label), StorageClass: datastore.StorageClassConfig,
			Doc: "The task's configuration."},
		{Name: MetadataConnection, Kind: Output, DatasetType: MetadataDatasetType(label), StorageClass: datastore.StorageClassTaskMetadata,
			Dimensions: slices.Clone(dims), Doc: "Metadata the task recorded while running the quantum."},
		{Name: LogConnection, Kind: Output, DatasetType: LogDatasetType(label), StorageClass: datastore.StorageClassButlerLogRecords,
			Dimensions: slices.Clone(dims), Doc: "Log records of the quantum."},
	}
}

var (
	identRE           = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	datasetTypeNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)
	dimensionNameRE   = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// ValidDatasetTypeName reports whether name is a valid dataset type name
// (letters, digits and '_' in dot-separated components), as the registry
// requires.
func ValidDatasetTypeName(name string) bool {
	return len(name) <= 256 && datasetTypeNameRE.MatchString(name)
}

// checkConnections validates a task class's connections (before renames).
func checkConnections(conns []Connection) error {
	seen := map[string]bool{}
	for _, c := range conns {
		if err := checkConnection(c); err != nil {
			return err
		}
		if seen[c.Name] {
			return fmt.Errorf("connection %q is declared twice", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

func checkConnection(c Connection) error {
	if !identRE.MatchString(c.Name) || strings.HasPrefix(c.Name, "_") {
		return fmt.Errorf("connection name %q: letters, digits and '_', not starting with '_'", yamlnode.Truncate(c.Name, 60))
	}
	if c.Kind < Input || c.Kind > InitOutput {
		return fmt.Errorf("connection %s: invalid kind %d", c.Name, int(c.Kind))
	}
	if !ValidDatasetTypeName(c.DatasetType) {
		return fmt.Errorf("connection %s: dataset type name %q: letters, digits and '_' in dot-separated components", c.Name, yamlnode.Truncate(c.DatasetType, 60))
	}
	if _, err := datastore.LookupStorageClass(c.StorageClass); err != nil {
		return fmt.Errorf("connection %s: %w", c.Name, err)
	}
	for _, d := range c.Dimensions {
		if !dimensionNameRE.MatchString(d) {
			return fmt.Errorf("connection %s: dimension name %q is not valid", c.Name, yamlnode.Truncate(d, 60))
		}
	}
	if c.Kind.IsInit() && len(c.Dimensions) > 0 {
		return fmt.Errorf("connection %s: an %s has no dimensions (got %s)", c.Name, c.Kind, strings.Join(c.Dimensions, ", "))
	}
	if c.IsCalibration && c.Kind != PrerequisiteInput {
		return fmt.Errorf("connection %s: only a PrerequisiteInput can be a calibration (this is an %s)", c.Name, c.Kind)
	}
	if c.Minimum < 0 {
		return fmt.Errorf("connection %s: minimum %d is negative", c.Name, c.Minimum)
	}
	if c.Minimum > 1 && !c.Multiple {
		return fmt.Errorf("connection %s: minimum %d needs multiple: true", c.Name, c.Minimum)
	}
	if c.Kind.IsOutput() && c.DeferLoad {
		return fmt.Errorf("connection %s: an %s cannot be deferLoad", c.Name, c.Kind)
	}
	return nil
}

func cloneConnections(conns []Connection) []Connection {
	out := slices.Clone(conns)
	for i := range out {
		out[i].Dimensions = slices.Clone(out[i].Dimensions)
	}
	return out
}
