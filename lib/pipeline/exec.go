package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/yamlnode"
)

// ExecClass is the registered name of ExecTask.
const ExecClass = "exec"

// ExecTask is the "exec" task class: it runs an external command (algorithm
// code in any language) on local copies of a quantum's inputs and stores
// the files it writes as outputs. Its connections are declared in its
// config (see DeclaredConnections); its other fields:
//
//	command: [prog, arg, ...]   # run without a shell; placeholders below
//	env: {NAME: value}          # added to the environment; placeholders allowed
//	timeout: 10m                # Go duration; "" for none
//	noWorkExitCode: 0           # an exit status that means no_work (0: none)
//
// Placeholders in command and env values:
//
//	{input:NAME}      the staged file of input NAME (its only ref)
//	{input:NAME:all}  the files of every ref of NAME (a Multiple input):
//	                  separate arguments when the placeholder is a whole
//	                  argument, else joined with spaces
//	{input:NAME:N}    the file of ref N
//	{output:NAME}, {output:NAME:all}, {output:NAME:N}
//	                  where the command must write output NAME; the file's
//	                  extension is the storage class's formatter's (.fits,
//	                  .parquet, .json, ...)
//	{dataId:KEY}      a value of the quantum's data ID
//	{tmpdir}          the quantum's scratch directory (the working directory)
//	{label}           the task's label
//	{{ and }}         literal braces
//
// Inputs are staged under TMPDIR/in/NAME/N/ with FileButler.StageInput when
// the butler implements FileButler, else written with the storage class's
// formatter; inputs the command never mentions are marked unused. Outputs
// are stored with FileButler.PutFile, else read with the formatter and Put.
// A non-zero exit is an *ExecError with the last lines of stderr; a missing
// output file (unless the output is optional) is an error.
type ExecTask struct{}

var _ ConfigValidator = ExecTask{}

// Name returns "exec".
func (ExecTask) Name() string { return ExecClass }

// ConfigSchema returns the exec fields.
func (ExecTask) ConfigSchema() ConfigSchema {
	return ConfigSchema{Fields: append([]ConfigField{
		{Name: "command", Type: FieldList, Items: FieldString, Doc: "The command and its arguments, with placeholders; run without a shell."},
		{Name: "env", Type: FieldMap, Items: FieldString, Doc: "Environment variables to set, with placeholders."},
		{Name: "timeout", Type: FieldString, Doc: "Kill the command after this long (Go duration, e.g. 90s); empty for no limit."},
		{Name: "noWorkExitCode", Type: FieldInt, Doc: "Exit status that reports no_work instead of a failure; 0 for none."},
	}, DeclaredConnectionFields()...)}
}

// Dimensions returns the configured dimensions.
func (ExecTask) Dimensions(cfg Config) []string { return cfg.Strings("dimensions") }

// Connections returns the declared connections.
func (ExecTask) Connections(cfg Config) []Connection {
	conns, _, _ := DeclaredConnections(cfg)
	return conns
}

// ValidateConfig checks the command, its placeholders, env, timeout and
// the declared connections.
func (ExecTask) ValidateConfig(cfg Config) error {
	_, err := newExecRunner(cfg)
	return err
}

// New returns a runner for cfg.
func (ExecTask) New(cfg Config) (Task, error) {
	return newExecRunner(cfg)
}

// ExecError is a command that failed.
type ExecError struct {
	Command  []string
	ExitCode int      // -1 when the command was killed or did not start
	Stderr   []string // its last lines of stderr
	Err      error
}

func (e *ExecError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "command %s", quoteCommand(e.Command))
	if e.ExitCode >= 0 {
		fmt.Fprintf(&b, " exited with status %d", e.ExitCode)
	} else {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if len(e.Stderr) > 0 {
		fmt.Fprintf(&b, "; stderr: %s", strings.Join(e.Stderr, " | "))
	}
	return b.String()
}

func (e *ExecError) Unwrap() error { return e.Err }

func quoteCommand(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\") {
			q[i] = strconv.Quote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// segment is a literal or a placeholder of a command argument.
type segment struct {
	lit   string
	kind  string // "" for a literal; input, output, dataId, tmpdir, label
	name  string
	all   bool
	index int
}

type execRunner struct {
	command  [][]segment
	env      []envVar
	timeout  time.Duration
	noWork   int
	conns    []Connection
	optional map[string]bool
	used     map[string]bool // input connections the command or env mention
}

type envVar struct {
	name  string
	value []segment
}

func newExecRunner(cfg Config) (*execRunner, error) {
	conns, optional, err := DeclaredConnections(cfg)
	if err != nil {
		return nil, err
	}
	r := &execRunner{conns: conns, optional: optional, used: map[string]bool{}}
	byName := map[string]Connection{}
	for _, c := range conns {
		byName[c.Name] = c
	}
	mentioned := map[string]bool{}
	check := func(field string, segs []segment) error {
		for _, s := range segs {
			if s.kind != "input" && s.kind != "output" {
				continue
			}
			c, ok := byName[s.name]
			if !ok || c.Kind.IsOutput() != (s.kind == "output") {
				var names []string
				for _, c := range conns {
					if c.Kind.IsOutput() == (s.kind == "output") {
						names = append(names, c.Name)
					}
				}
				return &FieldError{Field: field, Err: fmt.Errorf("{%s:%s}: no %s %q is declared%s", s.kind, s.name, s.kind, s.name, didYouMean(s.name, names))}
			}
			mentioned[s.name] = true
		}
		return nil
	}
	args := cfg.Strings("command")
	if len(args) == 0 {
		return nil, &FieldError{Field: "command", Err: errors.New("no command is configured")}
	}
	for i, a := range args {
		segs, err := parsePlaceholders(a)
		if err != nil {
			return nil, &FieldError{Field: "command", Err: fmt.Errorf("argument %d: %w", i, err)}
		}
		if err := check("command", segs); err != nil {
			return nil, err
		}
		r.command = append(r.command, segs)
	}
	if len(r.command[0]) == 0 {
		return nil, &FieldError{Field: "command", Err: errors.New("the program name is empty")}
	}
	env := cfg.Map("env")
	for _, k := range sortedKeys(env) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, &FieldError{Field: "env", Err: fmt.Errorf("bad variable name %q", k)}
		}
		s, _ := env[k].(string)
		segs, err := parsePlaceholders(s)
		if err != nil {
			return nil, &FieldError{Field: "env", Err: fmt.Errorf("%s: %w", k, err)}
		}
		if err := check("env", segs); err != nil {
			return nil, err
		}
		r.env = append(r.env, envVar{name: k, value: segs})
	}
	for _, c := range conns {
		if c.Kind == Output && !mentioned[c.Name] && !optional[c.Name] {
			return nil, &FieldError{Field: "outputs", Err: fmt.Errorf("output %s is never mentioned in command or env ({output:%s}); mark it optional if the command writes it elsewhere", c.Name, c.Name)}
		}
		if c.Kind.IsInput() && mentioned[c.Name] {
			r.used[c.Name] = true
		}
	}
	if t := cfg.String("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return nil, &FieldError{Field: "timeout", Err: fmt.Errorf("%q is not a positive duration such as 90s or 10m", t)}
		}
		r.timeout = d
	}
	r.noWork = cfg.Int("noWorkExitCode")
	if r.noWork < 0 || r.noWork > 255 {
		return nil, &FieldError{Field: "noWorkExitCode", Err: fmt.Errorf("%d is not an exit status (1-255, or 0 for none)", r.noWork)}
	}
	return r, nil
}

// parsePlaceholders splits an argument into literals and placeholders.
func parsePlaceholders(s string) ([]segment, error) {
	var out []segment
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, segment{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return nil, fmt.Errorf("unmatched '}' in %q (write }} for a literal brace)", yamlnode.Truncate(s, 80))
		case c == '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("unterminated placeholder in %q", yamlnode.Truncate(s, 80))
			}
			seg, err := parsePlaceholder(s[i+1 : i+j])
			if err != nil {
				return nil, err
			}
			flush()
			out = append(out, seg)
			i += j
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return out, nil
}

func parsePlaceholder(p string) (segment, error) {
	parts := strings.Split(p, ":")
	switch parts[0] {
	case "tmpdir", "label":
		if len(parts) != 1 {
			return segment{}, fmt.Errorf("placeholder {%s} takes no arguments", yamlnode.Truncate(p, 60))
		}
		return segment{kind: parts[0]}, nil
	case "dataId":
		if len(parts) != 2 || !identRE.MatchString(parts[1]) {
			return segment{}, fmt.Errorf("placeholder {%s}: want {dataId:KEY}", yamlnode.Truncate(p, 60))
		}
		return segment{kind: "dataId", name: parts[1]}, nil
	case "input", "output":
		if len(parts) < 2 || len(parts) > 3 || !identRE.MatchString(parts[1]) {
			return segment{}, fmt.Errorf("placeholder {%s}: want {%s:NAME}, {%s:NAME:all} or {%s:NAME:N}", yamlnode.Truncate(p, 60), parts[0], parts[0], parts[0])
		}
		seg := segment{kind: parts[0], name: parts[1], index: -1}
		if len(parts) == 3 {
			if parts[2] == "all" {
				seg.all = true
			} else if n, err := strconv.Atoi(parts[2]); err == nil && n >= 0 && n < 1<<20 {
				seg.index = n
			} else {
				return segment{}, fmt.Errorf("placeholder {%s}: %q is neither all nor an index", yamlnode.Truncate(p, 60), yamlnode.Truncate(parts[2], 20))
			}
		}
		return seg, nil
	}
	return segment{}, fmt.Errorf("unknown placeholder {%s} (want input, output, dataId, tmpdir or label)", yamlnode.Truncate(p, 60))
}

// Run stages inputs, runs the command and stores its outputs.
func (r *execRunner) Run(ctx context.Context, b QuantumButler, q QuantumContext) error {
	tmp := q.TmpDir
	if tmp == "" {
		d, err := os.MkdirTemp("", "skybutler-exec-*")
		if err != nil {
			return fmt.Errorf("exec: make scratch directory: %w", err)
		}
		defer os.RemoveAll(d)
		tmp = d
	}
	tmp, err := filepath.Abs(tmp)
	if err != nil {
		return fmt.Errorf("exec: scratch directory: %w", err)
	}
	fb, _ := b.(FileButler)
	paths := map[string][]string{}
	for _, c := range r.conns {
		switch {
		case c.Kind.IsInput() && !r.used[c.Name]:
			for i := range b.Refs(c.Name) {
				b.MarkInputUnused(c.Name, i)
			}
		case c.Kind.IsInput():
			for i := range b.Refs(c.Name) {
				dir := filepath.Join(tmp, "in", c.Name, strconv.Itoa(i))
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return fmt.Errorf("exec: stage input %s: %w", c.Name, err)
				}
				p, err := stageInput(ctx, b, fb, c, i, dir)
				if err != nil {
					return fmt.Errorf("exec: stage input %s[%d]: %w", c.Name, i, err)
				}
				paths[c.Name] = append(paths[c.Name], p)
			}
		case c.Kind == Output:
			f, err := datastore.FormatterFor(c.StorageClass, "")
			if err != nil {
				return fmt.Errorf("exec: output %s: %w", c.Name, err)
			}
			n := len(b.Refs(c.Name))
			if !c.Multiple {
				n = 1
			}
			dir := filepath.Join(tmp, "out")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("exec: prepare outputs: %w", err)
			}
			for i := range n {
				name := c.Name
				if c.Multiple {
					name = fmt.Sprintf("%s_%d", c.Name, i)
				}
				paths[c.Name] = append(paths[c.Name], filepath.Join(dir, name+f.Extension()))
			}
		}
	}
	exp := expander{paths: paths, dataID: q.DataID, tmp: tmp, label: q.Label}
	var args []string
	for _, segs := range r.command {
		a, err := exp.arg(segs)
		if err != nil {
			return fmt.Errorf("exec: %w", err)
		}
		args = append(args, a...)
	}
	if len(args) == 0 {
		return fmt.Errorf("exec: the command expands to nothing")
	}
	env := os.Environ()
	for _, e := range r.env {
		v, err := exp.join(e.value)
		if err != nil {
			return fmt.Errorf("exec: env %s: %w", e.name, err)
		}
		env = append(env, e.name+"="+v)
	}
	if err := r.run(ctx, b.Log(), args, env, tmp); err != nil {
		return err
	}
	for _, c := range r.conns {
		if c.Kind != Output {
			continue
		}
		for i, p := range paths[c.Name] {
			if _, err := os.Stat(p); err != nil {
				if errors.Is(err, os.ErrNotExist) && r.optional[c.Name] {
					continue
				}
				return fmt.Errorf("exec: command %s did not write output %s (%s): %w", quoteCommand(args), c.Name, p, err)
			}
			if err := putOutput(ctx, b, fb, c, i, p); err != nil {
				return fmt.Errorf("exec: put output %s[%d]: %w", c.Name, i, err)
			}
		}
	}
	return nil
}

func stageInput(ctx context.Context, b QuantumButler, fb FileButler, c Connection, i int, dir string) (string, error) {
	if fb != nil {
		return fb.StageInput(ctx, c.Name, i, dir)
	}
	obj, err := b.Get(ctx, c.Name, i)
	if err != nil {
		return "", err
	}
	f, err := datastore.FormatterFor(c.StorageClass, "")
	if err != nil {
		return "", err
	}
	data, err := f.Write(obj)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, c.DatasetType+f.Extension())
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return "", err
	}
	return p, nil
}

func putOutput(ctx context.Context, b QuantumButler, fb FileButler, c Connection, i int, p string) error {
	if fb != nil {
		return fb.PutFile(ctx, p, c.Name, i)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	f, err := datastore.FormatterFor(c.StorageClass, "")
	if err != nil {
		return err
	}
	obj, err := f.Read(data)
	if err != nil {
		return err
	}
	return b.Put(ctx, obj, c.Name, i)
}

// run runs the command, logging its output lines.
func (r *execRunner) run(ctx context.Context, log *slog.Logger, args, env []string, dir string) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rctx := ctx
	if r.timeout > 0 {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(rctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	stdout := &lineLogger{log: log, stream: "stdout"}
	stderr := &lineLogger{log: log, stream: "stderr", keep: 20}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	log.Info("exec: running command", "command", quoteCommand(args))
	start := time.Now()
	err := cmd.Run()
	stdout.flush()
	stderr.flush()
	if err == nil {
		log.Info("exec: command succeeded", "seconds", time.Since(start).Seconds())
		return nil
	}
	ee := &ExecError{Command: args, ExitCode: -1, Stderr: stderr.tail, Err: err}
	var exitErr *exec.ExitError
	switch {
	case r.timeout > 0 && errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		ee.Err = fmt.Errorf("timed out after %s: %w", r.timeout, err)
	case ctx.Err() != nil:
		ee.Err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		ee.ExitCode = exitErr.ExitCode()
		if r.noWork != 0 && ee.ExitCode == r.noWork {
			return fmt.Errorf("exec: command %s exited with status %d: %w", quoteCommand(args), ee.ExitCode, ErrNoWork)
		}
	}
	return fmt.Errorf("exec: %w", ee)
}

type expander struct {
	paths  map[string][]string
	dataID map[string]any
	tmp    string
	label  string
}

// values returns what one placeholder stands for.
func (e expander) values(s segment) ([]string, error) {
	switch s.kind {
	case "":
		return []string{s.lit}, nil
	case "tmpdir":
		return []string{e.tmp}, nil
	case "label":
		return []string{e.label}, nil
	case "dataId":
		v, ok := e.dataID[s.name]
		if !ok {
			return nil, fmt.Errorf("{dataId:%s}: the data ID has no %s (it has %s)", s.name, s.name, strings.Join(sortedKeys(e.dataID), ", "))
		}
		return []string{fmt.Sprint(v)}, nil
	}
	ps := e.paths[s.name]
	switch {
	case s.all:
		return ps, nil
	case s.index >= 0:
		if s.index >= len(ps) {
			return nil, fmt.Errorf("{%s:%s:%d}: %s has %d datasets", s.kind, s.name, s.index, s.name, len(ps))
		}
		return ps[s.index : s.index+1], nil
	}
	if len(ps) > 1 {
		return nil, fmt.Errorf("{%s:%s}: %s has %d datasets; use {%s:%s:all} or {%s:%s:N}", s.kind, s.name, s.name, len(ps), s.kind, s.name, s.kind, s.name)
	}
	return ps, nil
}

// arg expands one argument: a lone placeholder becomes as many arguments
// as it has values (none for an absent optional input).
func (e expander) arg(segs []segment) ([]string, error) {
	if len(segs) == 1 && segs[0].kind != "" {
		return e.values(segs[0])
	}
	s, err := e.join(segs)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func (e expander) join(segs []segment) (string, error) {
	var b strings.Builder
	for _, s := range segs {
		vs, err := e.values(s)
		if err != nil {
			return "", err
		}
		b.WriteString(strings.Join(vs, " "))
	}
	return b.String(), nil
}

// lineLogger logs each line written to it and keeps the last keep lines.
type lineLogger struct {
	log    *slog.Logger
	stream string
	keep   int
	buf    []byte
	tail   []string
}

const maxLogLine = 4096

func (w *lineLogger) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := slices.Index(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLogLine {
		w.line(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

func (w *lineLogger) line(s string) {
	s = strings.TrimRight(s, "\r")
	s = yamlnode.Truncate(s, maxLogLine)
	w.log.Info(s, "stream", w.stream)
	if w.keep > 0 && strings.TrimSpace(s) != "" {
		w.tail = append(w.tail, yamlnode.Truncate(s, 500))
		if len(w.tail) > w.keep {
			w.tail = w.tail[len(w.tail)-w.keep:]
		}
	}
}

func (w *lineLogger) flush() {
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}
