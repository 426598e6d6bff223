package pipeline

import (
	"fmt"
	"regexp"
	"sync"
)

var (
	classMu sync.RWMutex
	classes = map[string]TaskDef{}
)

var classNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// Register adds a task class under def.Name(), which must be new: a
// dot-separated name like "skybutler.examples.IsrTask". Its config schema
// must be valid.
func Register(def TaskDef) error {
	if def == nil {
		return fmt.Errorf("register task class: nil")
	}
	name := def.Name()
	if !classNameRE.MatchString(name) {
		return fmt.Errorf("register task class %q: a name is letters, digits and '_' in dot-separated components", name)
	}
	if err := def.ConfigSchema().Validate(); err != nil {
		return fmt.Errorf("register task class %s: %w", name, err)
	}
	classMu.Lock()
	defer classMu.Unlock()
	if _, dup := classes[name]; dup {
		return fmt.Errorf("register task class %s: already registered", name)
	}
	classes[name] = def
	return nil
}

// MustRegister is Register that panics on error, for init functions.
func MustRegister(def TaskDef) {
	if err := Register(def); err != nil {
		panic(err)
	}
}

// Lookup returns the task class registered as name.
func Lookup(name string) (TaskDef, bool) {
	classMu.RLock()
	defer classMu.RUnlock()
	def, ok := classes[name]
	return def, ok
}

// TaskClasses returns the registered class names, sorted.
func TaskClasses() []string {
	classMu.RLock()
	defer classMu.RUnlock()
	return sortedKeys(classes)
}

func init() {
	MustRegister(ExecTask{})
}
