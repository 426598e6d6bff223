package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/yamlnode"
)

// Task classes whose connections are declared in their config (exec, and
// the generic test tasks of examples/pipelines) share this format:
//
//	dimensions: [instrument, exposure, detector]   # the quanta's dimensions
//	inputs:
//	  - name: raw                 # connection name (required)
//	    datasetType: raw          # default: the name
//	    storageClass: ExposureF   # required
//	    dimensions: [instrument, exposure, detector]   # default: the task's
//	    multiple: false           # a list of refs
//	    deferLoad: false
//	    prerequisite: false       # a PrerequisiteInput
//	    isCalibration: false      # (prerequisites only)
//	    minimum: 1                # 0 makes the input optional
//	    doc: ...
//	outputs:
//	  - {name: copy, datasetType: rawCopy, storageClass: ExposureF, dimensions: [...], multiple: false, optional: false}
//
// An output marked optional may be left unwritten by a task.

// DeclaredConnectionFields returns the config fields of the format above:
// dimensions, inputs and outputs.
func DeclaredConnectionFields() []ConfigField {
	return []ConfigField{
		{Name: "dimensions", Type: FieldList, Items: FieldString, Doc: "Dimensions of the task's quanta."},
		{Name: "inputs", Type: FieldList, Items: FieldMap, Doc: "Input connections: name, datasetType, storageClass, dimensions, multiple, deferLoad, prerequisite, isCalibration, minimum, doc."},
		{Name: "outputs", Type: FieldList, Items: FieldMap, Doc: "Output connections: name, datasetType, storageClass, dimensions, multiple, optional, doc."},
	}
}

var (
	inputDeclKeys  = []string{"name", "datasetType", "storageClass", "dimensions", "multiple", "deferLoad", "prerequisite", "isCalibration", "minimum", "doc"}
	outputDeclKeys = []string{"name", "datasetType", "storageClass", "dimensions", "multiple", "optional", "doc"}
)

// DeclaredConnections reads the connections declared by the "inputs" and
// "outputs" fields of cfg (dimensions default to cfg's "dimensions").
// Errors are *FieldError naming the field. The second result lists the
// outputs marked optional.
func DeclaredConnections(cfg Config) ([]Connection, map[string]bool, error) {
	taskDims := cfg.Strings("dimensions")
	var out []Connection
	optional := map[string]bool{}
	for _, field := range []string{"inputs", "outputs"} {
		keys := inputDeclKeys
		if field == "outputs" {
			keys = outputDeclKeys
		}
		for i, item := range cfg.List(field) {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, nil, &FieldError{Field: field, Err: fmt.Errorf("item %d: want a mapping, got %s", i, describeValue(item))}
			}
			c, opt, err := declaredConnection(m, field == "outputs", keys, taskDims)
			if err != nil {
				return nil, nil, &FieldError{Field: field, Err: fmt.Errorf("item %d: %w", i, err)}
			}
			if err := checkConnection(c); err != nil {
				return nil, nil, &FieldError{Field: field, Err: fmt.Errorf("item %d: %w", i, err)}
			}
			if slices.ContainsFunc(out, func(o Connection) bool { return o.Name == c.Name }) {
				return nil, nil, &FieldError{Field: field, Err: fmt.Errorf("item %d: connection %q is declared twice", i, c.Name)}
			}
			if opt {
				optional[c.Name] = true
			}
			out = append(out, c)
		}
	}
	return out, optional, nil
}

func declaredConnection(m map[string]any, output bool, keys, taskDims []string) (Connection, bool, error) {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(keys, k) {
			return Connection{}, false, fmt.Errorf("unknown key %q%s (allowed: %s)", yamlnode.Truncate(k, 60), didYouMean(k, keys), strings.Join(keys, ", "))
		}
	}
	str := func(k string) (string, error) {
		v, ok := m[k]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%s: want string, got %s", k, describeValue(v))
		}
		return s, nil
	}
	boolean := func(k string) (bool, error) {
		v, ok := m[k]
		if !ok || v == nil {
			return false, nil
		}
		b, ok := v.(bool)
		if !ok {
			return false, fmt.Errorf("%s: want bool, got %s", k, describeValue(v))
		}
		return b, nil
	}
	var c Connection
	var err error
	if c.Name, err = str("name"); err != nil {
		return c, false, err
	}
	if c.Name == "" {
		return c, false, fmt.Errorf("no name")
	}
	if c.DatasetType, err = str("datasetType"); err != nil {
		return c, false, err
	}
	if c.DatasetType == "" {
		c.DatasetType = c.Name
	}
	if c.StorageClass, err = str("storageClass"); err != nil {
		return c, false, err
	}
	if c.StorageClass == "" {
		return c, false, fmt.Errorf("connection %s: no storageClass", c.Name)
	}
	if c.Doc, err = str("doc"); err != nil {
		return c, false, err
	}
	c.Dimensions = slices.Clone(taskDims)
	if v, ok := m["dimensions"]; ok && v != nil {
		l, ok := v.([]any)
		if !ok {
			return c, false, fmt.Errorf("dimensions: want a list, got %s", describeValue(v))
		}
		c.Dimensions = []string{}
		for _, d := range l {
			s, ok := d.(string)
			if !ok {
				return c, false, fmt.Errorf("dimensions: want strings, got %s", describeValue(d))
			}
			c.Dimensions = append(c.Dimensions, s)
		}
	}
	if c.Multiple, err = boolean("multiple"); err != nil {
		return c, false, err
	}
	if output {
		c.Kind = Output
		opt, err := boolean("optional")
		return c, opt, err
	}
	c.Kind = Input
	prereq, err := boolean("prerequisite")
	if err != nil {
		return c, false, err
	}
	if prereq {
		c.Kind = PrerequisiteInput
	}
	if c.DeferLoad, err = boolean("deferLoad"); err != nil {
		return c, false, err
	}
	if c.IsCalibration, err = boolean("isCalibration"); err != nil {
		return c, false, err
	}
	c.Minimum = 1
	if v, ok := m["minimum"]; ok && v != nil {
		n, ok := v.(int64)
		if !ok {
			return c, false, fmt.Errorf("minimum: want int, got %s", describeValue(v))
		}
		if n < 0 || n > 1<<20 {
			return c, false, fmt.Errorf("minimum %d is out of range", n)
		}
		c.Minimum = int(n)
	}
	return c, false, nil
}
