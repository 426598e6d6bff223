package pipeline

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/yamlnode"
)

// dtNode is a dataset type with how the pipeline uses it.
type dtNode struct {
	node         DatasetTypeNode
	prerequisite bool // read as a PrerequisiteInput
	init         bool // an InitInput or InitOutput
	regular      bool // read as an Input or written as an Output
	producerPos  pos
	scTask       string // label of the task whose storage class the node has
	dimsTask     string
}

// datasetTypeNodes gathers the pipeline's dataset types, sorted by name,
// and checks that the tasks agree about them. Dimensions are compared
// only when checkDims is set (they are comparable once Validate has put
// them in canonical form).
func (p *Pipeline) datasetTypeNodes(checkDims bool) ([]*dtNode, error) {
	byName := map[string]*dtNode{}
	get := func(c Connection) *dtNode {
		n, ok := byName[c.DatasetType]
		if !ok {
			n = &dtNode{node: DatasetTypeNode{Name: c.DatasetType}}
			byName[c.DatasetType] = n
		}
		return n
	}
	// Producers first, so that a dataset type takes its producer's
	// definition whatever the task order.
	for _, t := range p.Tasks {
		for _, c := range t.Connections {
			if !c.Kind.IsOutput() {
				continue
			}
			n := get(c)
			if n.node.Producer != "" {
				return nil, t.pos.errorf(ErrDuplicateOutput, "dataset type %s is an output of task %s (connection %s) and of task %s (%s)",
					c.DatasetType, t.Label, c.Name, n.node.Producer, n.producerPos.String())
			}
			n.node.Producer = t.Label
			n.producerPos = t.pos
			n.node.StorageClass = c.StorageClass
			n.scTask = t.Label
			n.node.Dimensions = slices.Clone(c.Dimensions)
			n.dimsTask = t.Label
			if c.Kind == InitOutput {
				n.init = true
			} else {
				n.regular = true
			}
		}
	}
	for _, t := range p.Tasks {
		for _, c := range t.Connections {
			if !c.Kind.IsInput() {
				continue
			}
			n := get(c)
			if !slices.Contains(n.node.Consumers, t.Label) {
				n.node.Consumers = append(n.node.Consumers, t.Label)
			}
			switch c.Kind {
			case PrerequisiteInput:
				if n.node.Producer != "" {
					return nil, t.pos.errorf(ErrDatasetTypeConflict, "task %s: prerequisite input %s (dataset type %s) is produced by task %s; a prerequisite must exist before the pipeline runs (make it an Input)",
						t.Label, c.Name, c.DatasetType, n.node.Producer)
				}
				if n.regular || n.init {
					return nil, t.pos.errorf(ErrDatasetTypeConflict, "task %s: dataset type %s is a prerequisite input here (connection %s) but a regular input of task %s",
						t.Label, c.DatasetType, c.Name, n.node.Consumers[0])
				}
				if n.prerequisite && n.node.IsCalibration != c.IsCalibration {
					return nil, t.pos.errorf(ErrDatasetTypeConflict, "task %s: prerequisite %s (dataset type %s) has isCalibration %v but task %s says %v",
						t.Label, c.Name, c.DatasetType, c.IsCalibration, n.node.Consumers[0], n.node.IsCalibration)
				}
				n.prerequisite = true
				n.node.IsCalibration = c.IsCalibration
			case InitInput:
				if n.prerequisite || n.regular {
					return nil, t.pos.errorf(ErrDatasetTypeConflict, "task %s: init-input %s (dataset type %s) is a regular dataset (with dimensions) elsewhere in the pipeline",
						t.Label, c.Name, c.DatasetType)
				}
				n.init = true
			case Input:
				if n.prerequisite || n.init {
					what := "a prerequisite input"
					if n.init {
						what = "an init-input or init-output"
					}
					return nil, t.pos.errorf(ErrDatasetTypeConflict, "task %s: input %s (dataset type %s) is %s elsewhere in the pipeline",
						t.Label, c.Name, c.DatasetType, what)
				}
				n.regular = true
			}
			if n.node.StorageClass == "" {
				n.node.StorageClass = c.StorageClass
				n.scTask = t.Label
				n.node.Dimensions = slices.Clone(c.Dimensions)
				n.dimsTask = t.Label
				continue
			}
			if err := compatibleStorageClasses(n.node.StorageClass, c.StorageClass); err != nil {
				return nil, t.pos.errorf(ErrDatasetTypeConflict, "task %s: connection %s reads dataset type %s as %s, but task %s has it as %s: %v",
					t.Label, c.Name, c.DatasetType, c.StorageClass, n.scTask, n.node.StorageClass, err)
			}
			if checkDims && !sameSet(n.node.Dimensions, c.Dimensions) {
				return nil, t.pos.errorf(ErrDatasetTypeConflict, "task %s: connection %s gives dataset type %s the dimensions {%s}, but task %s gives it {%s}",
					t.Label, c.Name, c.DatasetType, strings.Join(c.Dimensions, ", "), n.dimsTask, strings.Join(n.node.Dimensions, ", "))
			}
		}
	}
	out := make([]*dtNode, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[name])
	}
	return out, nil
}

// compatibleStorageClasses: two storage classes can name one dataset type
// when their in-memory Go types are the same (ImageF and ExposureF,
// ArrowTable and DataFrame), so one can be read as the other.
func compatibleStorageClasses(a, b string) error {
	if a == b {
		return nil
	}
	sa, err := datastore.LookupStorageClass(a)
	if err != nil {
		return err
	}
	sb, err := datastore.LookupStorageClass(b)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(sa.Types, sb.Types) {
		return fmt.Errorf("their in-memory types differ (%s vs %s)", sa.TypeNames(), sb.TypeNames())
	}
	return nil
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func (p pos) String() string {
	if p.file == "" {
		return p.key
	}
	if p.line == 0 {
		return p.file
	}
	return fmt.Sprintf("%s:%d", p.file, p.line)
}

// sortTasks orders tasks so that every producer comes before its
// consumers, keeping declaration order where the graph allows; it fails on
// a cycle, naming it.
func sortTasks(tasks []*TaskNode) ([]*TaskNode, error) {
	producer := map[string]int{}
	for i, t := range tasks {
		for _, c := range t.Connections {
			if c.Kind.IsOutput() {
				producer[c.DatasetType] = i
			}
		}
	}
	// edges[i] lists (j, dataset type) for producer i -> consumer j.
	type edge struct {
		to int
		dt string
	}
	edges := make([][]edge, len(tasks))
	indeg := make([]int, len(tasks))
	for j, t := range tasks {
		seen := map[int]bool{}
		for _, c := range t.Connections {
			if !c.Kind.IsInput() {
				continue
			}
			i, ok := producer[c.DatasetType]
			if !ok || seen[i] {
				continue
			}
			seen[i] = true
			edges[i] = append(edges[i], edge{to: j, dt: c.DatasetType})
			indeg[j]++
		}
	}
	done := make([]bool, len(tasks))
	out := make([]*TaskNode, 0, len(tasks))
	for len(out) < len(tasks) {
		next := -1
		for i := range tasks {
			if !done[i] && indeg[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		done[next] = true
		out = append(out, tasks[next])
		for _, e := range edges[next] {
			indeg[e.to]--
		}
	}
	if len(out) == len(tasks) {
		return out, nil
	}
	// Walk edges among the remaining tasks until one repeats: a cycle.
	start := slices.Index(done, false)
	var path []int
	var via []string
	at := map[int]int{}
	for i := start; ; {
		if k, ok := at[i]; ok {
			var b strings.Builder
			for n := k; n < len(path); n++ {
				fmt.Fprintf(&b, "%s -(%s)-> ", tasks[path[n]].Label, via[n])
			}
			b.WriteString(tasks[i].Label)
			first := tasks[path[k]]
			return nil, first.pos.errorf(ErrCycle, "tasks depend on each other through their dataset types: %s", b.String())
		}
		at[i] = len(path)
		path = append(path, i)
		moved := false
		for _, e := range edges[i] {
			if !done[e.to] {
				via = append(via, e.dt)
				i = e.to
				moved = true
				break
			}
		}
		if !moved { // cannot happen: every remaining task has a remaining producer
			return nil, tasks[start].pos.errorf(ErrCycle, "tasks depend on each other through their dataset types")
		}
	}
}

// resolve turns a parsed (and merged, selected) pipeline into a Pipeline.
func resolve(raw *rawPipeline) (*Pipeline, error) {
	params := map[string]any{}
	for _, prm := range raw.params {
		params[prm.name] = prm.value
	}
	p := &Pipeline{
		Description:        raw.description,
		Instrument:         raw.instrument,
		Parameters:         params,
		Subsets:            map[string][]string{},
		SubsetDescriptions: map[string]string{},
		file:               raw.file,
		raw:                raw,
	}
	tasks := make([]*TaskNode, 0, len(raw.tasks))
	for _, rt := range raw.tasks {
		def, ok := Lookup(rt.class)
		if !ok {
			return nil, rt.classPos.errorf(ErrUnknownTaskClass, "task %s: unknown task class %q%s", rt.label, yamlnode.Truncate(rt.class, 80),
				didYouMean(rt.class, TaskClasses()))
		}
		entries := make([]configEntry, len(rt.config))
		for i, e := range rt.config {
			v, err := substituteParameter(e, params)
			if err != nil {
				return nil, err
			}
			entries[i] = configEntry{key: e.key, value: v, pos: e.pos}
		}
		cfg, dims, conns, err := resolveTaskConfig(def, entries, rt.pos)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, &TaskNode{
			Label:       rt.label,
			Class:       def,
			Config:      cfg,
			Dimensions:  dims,
			Connections: append(conns, automaticConnections(rt.label, dims)...),
			pos:         rt.pos,
		})
	}
	p.Tasks = tasks
	if _, err := p.datasetTypeNodes(false); err != nil {
		return nil, err
	}
	sorted, err := sortTasks(tasks)
	if err != nil {
		return nil, err
	}
	p.Tasks = sorted
	for _, s := range raw.subsets {
		p.Subsets[s.name] = slices.Clone(s.labels)
		if s.description != "" {
			p.SubsetDescriptions[s.name] = s.description
		}
	}
	env := make(map[string]Config, len(tasks))
	for _, t := range tasks {
		env[t.Label] = t.Config
	}
	for _, rc := range raw.contracts {
		c := *rc
		if err := c.check(env); err != nil {
			return nil, err
		}
		p.Contracts = append(p.Contracts, &c)
	}
	return p, nil
}

const parameterPrefix = "parameters."

// substituteParameter replaces a config value "parameters.NAME" by the
// parameter's value.
func substituteParameter(e configEntry, params map[string]any) (any, error) {
	s, ok := e.value.(string)
	if !ok || !strings.HasPrefix(s, parameterPrefix) {
		return e.value, nil
	}
	name := strings.TrimPrefix(s, parameterPrefix)
	v, ok := params[name]
	if !ok {
		return nil, e.pos.errorf(ErrParameter, "parameter %q is not defined%s", yamlnode.Truncate(name, 60), didYouMean(name, sortedKeys(params)))
	}
	return deepCopy(v), nil
}
