package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// Pipeline is a resolved pipeline: its tasks with their classes looked up,
// configs applied, connections renamed and contracts checked. Load and
// Parse make one. Treat it as read-only (Validate aside): Override and
// Subset return modified copies.
type Pipeline struct {
	Description string
	Instrument  string
	Parameters  map[string]any
	Tasks       []*TaskNode         // in dependency (topological) order; ties keep declaration order
	Subsets     map[string][]string // labelled subsets: name -> task labels (in declaration order)
	// SubsetDescriptions holds the description of each subset that has one.
	SubsetDescriptions map[string]string
	Contracts          []*Contract

	file string
	raw  *rawPipeline
}

// TaskNode is one labelled task of a pipeline.
type TaskNode struct {
	Label       string
	Class       TaskDef
	Config      Config       // resolved: every field, plus "connections"
	Dimensions  []string     // the quanta's dimensions (after Validate: required closure in universe order)
	Connections []Connection // renamed dataset types, plus the automatic _config, _metadata and _log

	pos pos
}

// DatasetTypeNode is a dataset type as a pipeline uses it.
type DatasetTypeNode struct {
	Name          string
	Dimensions    []string
	StorageClass  string // the producer's, else the first consumer's (in task order)
	IsCalibration bool
	Producer      string   // label of the producing task; "" for overall inputs and prerequisites
	Consumers     []string // labels of the consuming tasks, in task order
}

// File returns the file the pipeline was read from ("" when it did not
// come from a file).
func (p *Pipeline) File() string { return p.file }

// Task returns the task labelled label.
func (p *Pipeline) Task(label string) (*TaskNode, bool) {
	for _, t := range p.Tasks {
		if t.Label == label {
			return t, true
		}
	}
	return nil, false
}

// Labels returns the task labels in task (topological) order.
func (p *Pipeline) Labels() []string {
	out := make([]string, len(p.Tasks))
	for i, t := range p.Tasks {
		out[i] = t.Label
	}
	return out
}

// Producer returns the task that writes datasetType (as an Output or
// InitOutput).
func (p *Pipeline) Producer(datasetType string) (*TaskNode, bool) {
	for _, t := range p.Tasks {
		for _, c := range t.Connections {
			if c.Kind.IsOutput() && c.DatasetType == datasetType {
				return t, true
			}
		}
	}
	return nil, false
}

// Consumers returns the tasks that read datasetType (as an Input,
// PrerequisiteInput or InitInput), in task order.
func (p *Pipeline) Consumers(datasetType string) []*TaskNode {
	var out []*TaskNode
	for _, t := range p.Tasks {
		for _, c := range t.Connections {
			if c.Kind.IsInput() && c.DatasetType == datasetType {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// Source returns "FILE:LINE" of the task's definition ("" when unknown).
func (t *TaskNode) Source() string {
	if t.pos.file == "" {
		return ""
	}
	if t.pos.line == 0 {
		return t.pos.file
	}
	return fmt.Sprintf("%s:%d", t.pos.file, t.pos.line)
}

// Connection returns the connection called name (automatic ones
// included: "_config", "_metadata", "_log").
func (t *TaskNode) Connection(name string) (Connection, bool) {
	for _, c := range t.Connections {
		if c.Name == name {
			return c, true
		}
	}
	return Connection{}, false
}

// ConnectionsOf returns the connections of one kind, in declaration order.
func (t *TaskNode) ConnectionsOf(kind ConnectionKind) []Connection {
	var out []Connection
	for _, c := range t.Connections {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// NewTask makes the task (its class's New with its config).
func (t *TaskNode) NewTask() (Task, error) {
	task, err := t.Class.New(t.Config.Clone())
	if err != nil {
		return nil, fmt.Errorf("make task %s (%s): %w", t.Label, t.Class.Name(), err)
	}
	return task, nil
}

// Validate checks the pipeline against a dimension universe: every task
// and connection dimension exists, every non-Multiple output's dimensions
// are among its task's, and tasks that share a dataset type agree on its
// dimensions. It puts every dimension list in canonical form (the required
// closure in universe order, as the registry stores dataset types).
func (p *Pipeline) Validate(u *dimensions.Universe) error {
	if u == nil {
		return fmt.Errorf("validate pipeline: no dimension universe")
	}
	// Normalise copies, check them, and only then update the tasks.
	tasks := make([]*TaskNode, len(p.Tasks))
	for ti, orig := range p.Tasks {
		t := *orig
		t.Connections = cloneConnections(orig.Connections)
		dims, err := u.Required(t.Dimensions)
		if err != nil {
			return t.pos.wrap(ErrDimensions, fmt.Errorf("task %s (%s): %w", t.Label, t.Class.Name(), err))
		}
		t.Dimensions = dims
		for i, c := range t.Connections {
			cd, err := u.Required(c.Dimensions)
			if err != nil {
				return t.pos.wrap(ErrDimensions, fmt.Errorf("task %s: connection %s (dataset type %s): %w", t.Label, c.Name, c.DatasetType, err))
			}
			t.Connections[i].Dimensions = cd
			if c.Kind == Output && !c.Multiple {
				for _, d := range cd {
					if !slices.Contains(dims, d) {
						return t.pos.errorf(ErrDimensions, "task %s: output %s (dataset type %s) has dimension %s, which the task (%s) does not have",
							t.Label, c.Name, c.DatasetType, d, strings.Join(dims, ", "))
					}
				}
			}
		}
		tasks[ti] = &t
	}
	if _, err := (&Pipeline{Tasks: tasks}).datasetTypeNodes(true); err != nil {
		return err
	}
	for i, t := range tasks {
		p.Tasks[i].Dimensions = t.Dimensions
		p.Tasks[i].Connections = t.Connections
	}
	return nil
}

// DatasetTypes classifies the pipeline's dataset types, each sorted by
// name: inputs are read (as Input or InitInput) but not produced;
// prerequisites are read as PrerequisiteInput; intermediates are Outputs
// some task reads; outputs are Outputs no task reads; initOutputs are the
// InitOutputs (<label>_config included), read or not. Tasks that disagree
// about a dataset type (storage classes of different Go types,
// calibration flag, dimensions) make it an error.
func (p *Pipeline) DatasetTypes() (inputs, prerequisites, intermediates, outputs, initOutputs []DatasetTypeNode, err error) {
	nodes, err := p.datasetTypeNodes(true)
	if err != nil {
		return nil, nil, nil, nil, nil, fmt.Errorf("classify dataset types: %w", err)
	}
	for _, n := range nodes {
		node := n.node
		switch {
		case n.prerequisite:
			prerequisites = append(prerequisites, node)
		case node.Producer == "":
			inputs = append(inputs, node)
		case n.init:
			initOutputs = append(initOutputs, node)
		case len(node.Consumers) > 0:
			intermediates = append(intermediates, node)
		default:
			outputs = append(outputs, node)
		}
	}
	return inputs, prerequisites, intermediates, outputs, initOutputs, nil
}

// DatasetType returns one dataset type of the pipeline.
func (p *Pipeline) DatasetType(name string) (DatasetTypeNode, bool) {
	nodes, err := p.datasetTypeNodes(false)
	if err != nil {
		return DatasetTypeNode{}, false
	}
	for _, n := range nodes {
		if n.node.Name == name {
			return n.node, true
		}
	}
	return DatasetTypeNode{}, false
}
