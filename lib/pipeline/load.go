package pipeline

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/skybutler/skybutler/lib/yamlnode"
	"gopkg.in/yaml.v3"
)

// rawPipeline is a pipeline file as parsed, with its imports merged and
// selections applied, before task classes are looked up.
type rawPipeline struct {
	file          string
	description   string
	instrument    string
	instrumentPos pos
	params        []rawParam
	tasks         []*rawTask
	subsets       []*rawSubset
	contracts     []*Contract
}

type rawParam struct {
	name  string
	value any
	pos   pos
}

type rawTask struct {
	label    string
	class    string
	pos      pos // the label's key in "tasks"
	classPos pos
	config   []configEntry
}

type rawSubset struct {
	name        string
	labels      []string
	description string
	pos         pos
}

func (r *rawPipeline) clone() *rawPipeline {
	c := *r
	c.params = slices.Clone(r.params)
	c.tasks = make([]*rawTask, len(r.tasks))
	for i, t := range r.tasks {
		tc := *t
		tc.config = slices.Clone(t.config)
		c.tasks[i] = &tc
	}
	c.subsets = slices.Clone(r.subsets)
	c.contracts = slices.Clone(r.contracts)
	return &c
}

func (r *rawPipeline) task(label string) (*rawTask, int) {
	for i, t := range r.tasks {
		if t.label == label {
			return t, i
		}
	}
	return nil, -1
}

func (r *rawPipeline) subset(name string) *rawSubset {
	for _, s := range r.subsets {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (r *rawPipeline) names() []string {
	var out []string
	for _, t := range r.tasks {
		out = append(out, t.label)
	}
	for _, s := range r.subsets {
		out = append(out, s.name)
	}
	return out
}

// selectLabels keeps the tasks named (or, with exclude, all but them);
// names may be subsets, which expand to their tasks. Subsets that lose a
// task and contracts that refer to a dropped task are dropped. lines gives
// the line of each name (or nil).
func (r *rawPipeline) selectLabels(names []string, lines []int, exclude bool, p pos) (*rawPipeline, error) {
	set := map[string]bool{}
	for i, n := range names {
		np := p
		if i < len(lines) {
			np = p.at(lines[i])
		}
		if t, _ := r.task(n); t != nil {
			set[n] = true
			continue
		}
		if s := r.subset(n); s != nil {
			for _, l := range s.labels {
				set[l] = true
			}
			continue
		}
		return nil, np.errorf(ErrUnknownLabel, "%q is neither a task label nor a subset of %s%s", yamlnode.Truncate(n, 60), r.file, didYouMean(n, r.names()))
	}
	out := r.clone()
	all := out.tasks
	out.tasks = nil
	for _, t := range all {
		if set[t.label] != exclude {
			out.tasks = append(out.tasks, t)
		}
	}
	out.dropIncomplete()
	return out, nil
}

// dropIncomplete removes subsets and contracts that refer to tasks the
// pipeline no longer has.
func (r *rawPipeline) dropIncomplete() {
	has := func(l string) bool { t, _ := r.task(l); return t != nil }
	r.subsets = slices.DeleteFunc(slices.Clone(r.subsets), func(s *rawSubset) bool {
		return !allOf(s.labels, has)
	})
	r.contracts = slices.DeleteFunc(slices.Clone(r.contracts), func(c *Contract) bool {
		return !allOf(c.labels, has)
	})
}

func allOf(list []string, f func(string) bool) bool {
	for _, s := range list {
		if !f(s) {
			return false
		}
	}
	return true
}

// maxFileSize bounds a pipeline file.
const maxFileSize = 16 << 20

// maxImportDepth bounds the nesting of imports.
const maxImportDepth = 32

// loader reads pipeline files: from the OS (Load, Parse) or an fs.FS
// (LoadFS).
type loader struct {
	fsys  fs.FS // nil: the OS
	stack []string
}

func (l *loader) join(from, loc string) string {
	if l.fsys != nil {
		if path.IsAbs(loc) {
			return path.Clean(strings.TrimPrefix(loc, "/"))
		}
		return path.Join(path.Dir(from), loc)
	}
	if filepath.IsAbs(loc) || from == "" {
		return filepath.Clean(loc)
	}
	return filepath.Join(filepath.Dir(from), loc)
}

// identity is the key that detects import loops.
func (l *loader) identity(file string) string {
	if l.fsys != nil {
		return path.Clean(file)
	}
	if abs, err := filepath.Abs(file); err == nil {
		return abs
	}
	return filepath.Clean(file)
}

func (l *loader) read(file string) ([]byte, error) {
	if l.fsys != nil {
		f, err := l.fsys.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f)
	}
	st, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", file)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f)
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("file is larger than %d bytes", maxFileSize)
	}
	return data, nil
}

// Load reads a pipeline file and resolves it. path may end in a selector,
// "file.yaml#label1,subset2", which keeps only the tasks named (subsets
// expand to their tasks). Imports are read relative to the file.
func Load(path string) (*Pipeline, error) {
	return load(&loader{}, path)
}

// LoadFS is Load reading from fsys (imports too; paths are slash-separated
// and relative to fsys).
func LoadFS(fsys fs.FS, path string) (*Pipeline, error) {
	return load(&loader{fsys: fsys}, path)
}

func load(l *loader, spec string) (p *Pipeline, err error) {
	file, selector, hasSelector := cutSelector(spec)
	data, err := l.read(file)
	if err != nil {
		return nil, fmt.Errorf("load pipeline: %w", &Error{File: file, Err: kindError{kind: ErrImport, msg: fmt.Sprintf("read pipeline: %v", err), cause: err}})
	}
	p, err = parse(l, data, file, selector, hasSelector)
	if err != nil {
		return nil, fmt.Errorf("load pipeline: %w", err)
	}
	return p, nil
}

// cutSelector splits "file.yaml#a,b" at its last '#'.
func cutSelector(spec string) (file, selector string, ok bool) {
	i := strings.LastIndexByte(spec, '#')
	if i < 0 {
		return spec, "", false
	}
	return spec[:i], spec[i+1:], true
}

// Parse resolves a pipeline from YAML. name is the file name used in
// errors and the directory imports are relative to; it may carry a
// selector ("pipe.yaml#isr").
func Parse(data []byte, name string) (*Pipeline, error) {
	file, selector, hasSelector := cutSelector(name)
	p, err := parse(&loader{}, data, file, selector, hasSelector)
	if err != nil {
		return nil, fmt.Errorf("parse pipeline: %w", err)
	}
	return p, nil
}

func parse(l *loader, data []byte, file, selector string, hasSelector bool) (p *Pipeline, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &Error{File: file, Err: fmt.Errorf("internal error: %v", r)}
		}
	}()
	raw, err := l.parseFile(data, file)
	if err != nil {
		return nil, err
	}
	if hasSelector {
		var names []string
		for n := range strings.SplitSeq(selector, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return nil, (pos{file: file, key: "#" + selector}).errorf(ErrUnknownLabel, "the selector names no label")
		}
		raw, err = raw.selectLabels(names, nil, false, pos{file: file, key: "#" + selector})
		if err != nil {
			return nil, err
		}
	}
	return resolve(raw)
}

var topKeys = []string{"description", "instrument", "parameters", "imports", "tasks", "subsets", "contracts"}

// reserved words cannot be task labels or subset names: they mean
// something in contract expressions.
var reserved = []string{"and", "or", "not", "True", "False", "None", "true", "false", "null", "parameters"}

// parseFile parses one file and merges its imports.
func (l *loader) parseFile(data []byte, file string) (*rawPipeline, error) {
	id := l.identity(file)
	l.stack = append(l.stack, id)
	defer func() { l.stack = l.stack[:len(l.stack)-1] }()
	top := pos{file: file}
	root, err := parseDocument(data, top)
	if err != nil {
		return nil, err
	}
	pairs, err := mappingPairs(root, top, topKeys)
	if err != nil {
		return nil, err
	}
	merged := &rawPipeline{file: file}
	local := &rawPipeline{file: file}
	var importsPair, tasksPair, subsetsPair, contractsPair *pair
	for i := range pairs {
		pr := &pairs[i]
		switch pr.key {
		case "description":
			if pr.value.ShortTag() != "!!null" {
				if local.description, err = scalarString(pr.value, pr.pos, "description"); err != nil {
					return nil, err
				}
				local.description = strings.TrimSpace(local.description)
			}
		case "instrument":
			if pr.value.ShortTag() != "!!null" {
				if local.instrument, err = scalarString(pr.value, pr.pos, "instrument"); err != nil {
					return nil, err
				}
				local.instrumentPos = pr.pos
			}
		case "parameters":
			if local.params, err = parseParameters(pr); err != nil {
				return nil, err
			}
		case "imports":
			importsPair = pr
		case "tasks":
			tasksPair = pr
		case "subsets":
			subsetsPair = pr
		case "contracts":
			contractsPair = pr
		}
	}
	if importsPair != nil {
		if err := l.parseImports(importsPair, merged); err != nil {
			return nil, err
		}
	}
	if tasksPair != nil {
		if local.tasks, err = parseTasks(tasksPair); err != nil {
			return nil, err
		}
	}
	if subsetsPair != nil {
		if local.subsets, err = parseSubsets(subsetsPair); err != nil {
			return nil, err
		}
	}
	if contractsPair != nil {
		if local.contracts, err = parseContracts(contractsPair); err != nil {
			return nil, err
		}
	}
	return mergeLocal(merged, local)
}

// mergeLocal lays a file's own definitions over what it imported.
func mergeLocal(merged, local *rawPipeline) (*rawPipeline, error) {
	merged.file = local.file
	merged.description = local.description
	if local.instrument != "" {
		merged.instrument, merged.instrumentPos = local.instrument, local.instrumentPos
	}
	for _, prm := range local.params {
		merged.params = slices.DeleteFunc(merged.params, func(q rawParam) bool { return q.name == prm.name })
		merged.params = append(merged.params, prm)
	}
	for _, t := range local.tasks {
		old, i := merged.task(t.label)
		switch {
		case old == nil && t.class == "":
			return nil, t.pos.errorf(ErrSyntax, "task %s has no class", t.label)
		case old == nil:
			merged.tasks = append(merged.tasks, t)
		case t.class == "" || t.class == old.class:
			// Same task: the local config overrides the imported one.
			nt := *old
			nt.config = append(slices.Clone(old.config), t.config...)
			merged.tasks[i] = &nt
		default:
			merged.tasks[i] = t
		}
	}
	for _, s := range local.subsets {
		merged.subsets = slices.DeleteFunc(merged.subsets, func(o *rawSubset) bool { return o.name == s.name })
		merged.subsets = append(merged.subsets, s)
	}
	for _, s := range merged.subsets {
		if t, _ := merged.task(s.name); t != nil {
			return nil, s.pos.errorf(ErrSyntax, "subset %s has the name of a task label", s.name)
		}
		for _, l := range s.labels {
			if t, _ := merged.task(l); t == nil {
				return nil, s.pos.errorf(ErrUnknownLabel, "subset %s: no task labelled %q%s", s.name, yamlnode.Truncate(l, 60), didYouMean(l, taskLabels(merged)))
			}
		}
	}
	for _, c := range local.contracts {
		for _, l := range c.labels {
			if t, _ := merged.task(l); t == nil {
				return nil, c.pos.errorf(ErrUnknownLabel, "contract %q: no task labelled %q%s", yamlnode.Truncate(c.Expr, 100), yamlnode.Truncate(l, 60), didYouMean(l, taskLabels(merged)))
			}
		}
		merged.contracts = append(merged.contracts, c)
	}
	return merged, nil
}

func taskLabels(r *rawPipeline) []string {
	out := make([]string, len(r.tasks))
	for i, t := range r.tasks {
		out[i] = t.label
	}
	return out
}

func parseParameters(pr *pair) ([]rawParam, error) {
	if pr.value.ShortTag() == "!!null" {
		return nil, nil
	}
	items, err := mappingPairs(pr.value, pr.pos, nil)
	if err != nil {
		return nil, err
	}
	out := make([]rawParam, 0, len(items))
	for _, it := range items {
		if !identRE.MatchString(it.key) {
			return nil, it.pos.errorf(ErrSyntax, "parameter name %q: letters, digits and '_'", yamlnode.Truncate(it.key, 60))
		}
		v, err := nodeValue(it.value, it.pos)
		if err != nil {
			return nil, err
		}
		out = append(out, rawParam{name: it.key, value: v, pos: it.pos})
	}
	return out, nil
}

func checkLabel(name string, p pos, what string) error {
	if !identRE.MatchString(name) || len(name) > 100 {
		return p.errorf(ErrSyntax, "%s %q: letters, digits and '_', not starting with a digit", what, yamlnode.Truncate(name, 60))
	}
	if slices.Contains(reserved, name) {
		return p.errorf(ErrSyntax, "%s %q is a reserved word", what, name)
	}
	return nil
}

func parseTasks(pr *pair) ([]*rawTask, error) {
	if pr.value.ShortTag() == "!!null" {
		return nil, nil
	}
	items, err := mappingPairs(pr.value, pr.pos, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*rawTask, 0, len(items))
	for _, it := range items {
		if err := checkLabel(it.key, it.pos, "task label"); err != nil {
			return nil, err
		}
		t := &rawTask{label: it.key, pos: it.pos, classPos: it.pos}
		if it.value.Kind == yaml.ScalarNode {
			if t.class, err = scalarString(it.value, it.pos, "the task class"); err != nil {
				return nil, err
			}
			out = append(out, t)
			continue
		}
		fields, err := mappingPairs(it.value, it.pos, []string{"class", "config"})
		if err != nil {
			return nil, err
		}
		for _, f := range fields {
			switch f.key {
			case "class":
				if t.class, err = scalarString(f.value, f.pos, "class"); err != nil {
					return nil, err
				}
				t.classPos = f.pos
			case "config":
				if t.config, err = parseTaskConfig(f); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// parseTaskConfig reads a task's config section: a mapping, or a list of
// mappings applied in order (pipe_base's "python:" blocks are not
// supported).
func parseTaskConfig(f pair) ([]configEntry, error) {
	v := f.value
	if v.ShortTag() == "!!null" {
		return nil, nil
	}
	blocks := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		blocks = v.Content
	}
	var out []configEntry
	for _, b := range blocks {
		items, err := mappingPairs(b, f.pos, nil)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if it.key == "python" {
				return nil, it.pos.errorf(ErrSyntax, "python config blocks are not supported; give field values")
			}
			val, err := nodeValue(it.value, it.pos)
			if err != nil {
				return nil, err
			}
			out = append(out, configEntry{key: it.key, value: val, pos: it.pos})
		}
	}
	return out, nil
}

func parseSubsets(pr *pair) ([]*rawSubset, error) {
	if pr.value.ShortTag() == "!!null" {
		return nil, nil
	}
	items, err := mappingPairs(pr.value, pr.pos, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*rawSubset, 0, len(items))
	for _, it := range items {
		if err := checkLabel(it.key, it.pos, "subset name"); err != nil {
			return nil, err
		}
		s := &rawSubset{name: it.key, pos: it.pos}
		labelsNode := it.value
		if it.value.Kind == yaml.MappingNode {
			fields, err := mappingPairs(it.value, it.pos, []string{"subset", "description"})
			if err != nil {
				return nil, err
			}
			labelsNode = nil
			for _, f := range fields {
				switch f.key {
				case "subset":
					labelsNode = f.value
				case "description":
					if f.value.ShortTag() != "!!null" {
						if s.description, err = scalarString(f.value, f.pos, "description"); err != nil {
							return nil, err
						}
						s.description = strings.TrimSpace(s.description)
					}
				}
			}
			if labelsNode == nil {
				return nil, it.pos.errorf(ErrSyntax, "subset %s has no \"subset\" list of labels", it.key)
			}
		}
		labels, _, err := stringList(labelsNode, it.pos, "subset")
		if err != nil {
			return nil, err
		}
		for _, l := range labels {
			if !slices.Contains(s.labels, l) {
				s.labels = append(s.labels, l)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func parseContracts(pr *pair) ([]*Contract, error) {
	v := pr.value
	if v.ShortTag() == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, pr.pos.at(v.Line).errorf(ErrSyntax, "contracts must be a list, not %s", yamlnode.KindName(v))
	}
	var out []*Contract
	for i, item := range v.Content {
		item = yamlnode.Resolve(item)
		cp := pr.pos.child(fmt.Sprint(i), item.Line)
		c := &Contract{pos: cp}
		var err error
		if item.Kind == yaml.MappingNode {
			fields, err := mappingPairs(item, cp, []string{"contract", "msg"})
			if err != nil {
				return nil, err
			}
			for _, f := range fields {
				switch f.key {
				case "contract":
					if c.Expr, err = scalarString(f.value, f.pos, "contract"); err != nil {
						return nil, err
					}
				case "msg":
					if f.value.ShortTag() != "!!null" {
						if c.Msg, err = scalarString(f.value, f.pos, "msg"); err != nil {
							return nil, err
						}
					}
				}
			}
			if c.Expr == "" {
				return nil, cp.errorf(ErrSyntax, "contract has no \"contract\" expression")
			}
		} else if c.Expr, err = scalarString(item, cp, "a contract"); err != nil {
			return nil, err
		}
		if c.expr, c.labels, err = parseContract(c.Expr); err != nil {
			return nil, cp.errorf(ErrSyntax, "contract %q: %v", yamlnode.Truncate(c.Expr, 100), err)
		}
		out = append(out, c)
	}
	return out, nil
}

// parseImports reads the imported pipelines into merged.
func (l *loader) parseImports(pr *pair, merged *rawPipeline) error {
	v := pr.value
	if v.ShortTag() == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		return pr.pos.at(v.Line).errorf(ErrSyntax, "imports must be a list, not %s", yamlnode.KindName(v))
	}
	instrumentFrom := ""
	for i, item := range v.Content {
		item = yamlnode.Resolve(item)
		ip := pr.pos.child(fmt.Sprint(i), item.Line)
		var (
			location, mode  string
			labels          []string
			lines           []int
			importContracts = true
			locPos          = ip
			selectorPos     = ip
		)
		if item.Kind == yaml.MappingNode {
			fields, err := mappingPairs(item, ip, []string{"location", "include", "exclude", "importContracts"})
			if err != nil {
				return err
			}
			for _, f := range fields {
				switch f.key {
				case "location":
					if location, err = scalarString(f.value, f.pos, "location"); err != nil {
						return err
					}
					locPos = f.pos
				case "include", "exclude":
					if mode != "" {
						return f.pos.errorf(ErrSyntax, "an import takes include or exclude, not both")
					}
					mode = f.key
					if labels, lines, err = stringList(f.value, f.pos, f.key); err != nil {
						return err
					}
					selectorPos = f.pos
				case "importContracts":
					if f.value.ShortTag() != "!!bool" || f.value.Decode(&importContracts) != nil {
						return f.pos.errorf(ErrSyntax, "importContracts must be true or false, not %s", yamlnode.KindName(f.value))
					}
				}
			}
			if location == "" {
				return ip.errorf(ErrSyntax, "import has no location")
			}
		} else {
			var err error
			if location, err = scalarString(item, ip, "an import location"); err != nil {
				return err
			}
		}
		location, err := expandEnv(location)
		if err != nil {
			return locPos.errorf(ErrImport, "import %q: %v", yamlnode.Truncate(location, 100), err)
		}
		file := l.join(merged.file, location)
		if slices.Contains(l.stack, l.identity(file)) {
			return locPos.errorf(ErrImport, "import %q: import loop (%s -> %s)", location, strings.Join(l.stack, " -> "), l.identity(file))
		}
		if len(l.stack) >= maxImportDepth {
			return locPos.errorf(ErrImport, "import %q: imports nested more than %d deep", location, maxImportDepth)
		}
		data, err := l.read(file)
		if err != nil {
			return locPos.wrap(ErrImport, fmt.Errorf("import %q: %w", location, err))
		}
		imp, err := l.parseFile(data, file)
		if err != nil {
			return err
		}
		if mode != "" {
			if imp, err = imp.selectLabels(labels, lines, mode == "exclude", selectorPos); err != nil {
				return err
			}
		}
		if !importContracts {
			imp.contracts = nil
		}
		if err := mergeImport(merged, imp, locPos, &instrumentFrom); err != nil {
			return err
		}
	}
	return nil
}

// mergeImport adds an imported pipeline to what the file imported so far.
func mergeImport(merged, imp *rawPipeline, p pos, instrumentFrom *string) error {
	for _, t := range imp.tasks {
		if old, _ := merged.task(t.label); old != nil {
			return p.errorf(ErrSyntax, "import %s: task label %s is also defined by an earlier import (%s)", imp.file, t.label, old.pos.String())
		}
		merged.tasks = append(merged.tasks, t)
	}
	for _, s := range imp.subsets {
		if merged.subset(s.name) != nil {
			return p.errorf(ErrSyntax, "import %s: subset %s is also defined by an earlier import", imp.file, s.name)
		}
		merged.subsets = append(merged.subsets, s)
	}
	for _, prm := range imp.params {
		merged.params = slices.DeleteFunc(merged.params, func(q rawParam) bool { return q.name == prm.name })
		merged.params = append(merged.params, prm)
	}
	merged.contracts = append(merged.contracts, imp.contracts...)
	if imp.instrument != "" {
		if merged.instrument != "" && merged.instrument != imp.instrument {
			return p.errorf(ErrSyntax, "import %s: instrument %s differs from %s of %s", imp.file, imp.instrument, merged.instrument, *instrumentFrom)
		}
		merged.instrument, merged.instrumentPos = imp.instrument, imp.instrumentPos
		*instrumentFrom = imp.file
	}
	return nil
}

// expandEnv replaces $VAR and ${VAR} in an import location; an unset
// variable is an error.
func expandEnv(s string) (string, error) {
	var missing []string
	out := os.Expand(s, func(name string) string {
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}
