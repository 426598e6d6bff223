package dimensions

import (
	"fmt"
	"slices"
	"sync"

	"github.com/skybutler/skybutler/schemas"
)

// Universe is a validated, immutable set of dimension elements. Its elements
// are kept in universe order: a topological order of the requires/implies
// graph (dependencies first), ties broken by declaration order.
type Universe struct {
	Version   int
	Namespace string

	elements []*Element
	byName   map[string]*Element
}

var (
	defaultOnce     sync.Once
	defaultUniverse *Universe
)

// Default returns the universe embedded from schemas/dimensions.yaml. It is
// loaded once; it panics only if the embedded file is broken (a test
// guarantees it is not).
func Default() *Universe {
	defaultOnce.Do(func() {
		data, err := schemas.FS.ReadFile("dimensions.yaml")
		if err != nil {
			panic(fmt.Sprintf("dimensions: read embedded dimensions.yaml: %v", err))
		}
		u, err := Load(data)
		if err != nil {
			panic(fmt.Sprintf("dimensions: embedded dimensions.yaml: %v", err))
		}
		defaultUniverse = u
	})
	return defaultUniverse
}

// String returns "namespace v<version>".
func (u *Universe) String() string { return fmt.Sprintf("%s v%d", u.Namespace, u.Version) }

// Elements returns all elements in universe order. The slice is a copy; the
// elements are shared and must not be modified.
func (u *Universe) Elements() []*Element { return slices.Clone(u.elements) }

// Names returns the names of all elements in universe order.
func (u *Universe) Names() []string {
	names := make([]string, len(u.elements))
	for i, e := range u.elements {
		names[i] = e.Name
	}
	return names
}

// Element returns the element with the given name.
func (u *Universe) Element(name string) (*Element, bool) {
	e, ok := u.byName[name]
	return e, ok
}

// KeyType returns the type of dim's key, or "" when dim is not in the universe.
func (u *Universe) KeyType(dim string) FieldType {
	if e, ok := u.byName[dim]; ok {
		return e.Key.Type
	}
	return ""
}

// Sorted returns the distinct names of dims in universe order; it fails on a
// name the universe does not know.
func (u *Universe) Sorted(dims []string) ([]string, error) {
	set, err := u.lookupAll(dims)
	if err != nil {
		return nil, err
	}
	return u.ordered(set), nil
}

// Expand returns the closure of dims over requires and implies, in universe
// order: every dimension a data ID for dims can carry.
func (u *Universe) Expand(dims []string) ([]string, error) {
	return u.closure(dims, true)
}

// Required returns the closure of dims over requires only, in universe
// order: the keys a data ID for dims must have.
func (u *Universe) Required(dims []string) ([]string, error) {
	return u.closure(dims, false)
}

func (u *Universe) closure(dims []string, withImplied bool) ([]string, error) {
	set, err := u.lookupAll(dims)
	if err != nil {
		return nil, err
	}
	// Requires are already closed; implied dimensions bring their own
	// requires and implies, so iterate until nothing is added.
	stack := make([]*Element, 0, len(set))
	for e := range set {
		stack = append(stack, e)
	}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		deps := e.Requires
		if withImplied {
			deps = append(slices.Clone(e.Requires), e.Implies...)
		}
		for _, d := range deps {
			de := u.byName[d]
			if !set[de] {
				set[de] = true
				stack = append(stack, de)
			}
		}
	}
	return u.ordered(set), nil
}

func (u *Universe) lookupAll(dims []string) (map[*Element]bool, error) {
	set := make(map[*Element]bool, len(dims))
	for _, d := range dims {
		e, ok := u.byName[d]
		if !ok {
			return nil, u.unknown(d)
		}
		set[e] = true
	}
	return set, nil
}

func (u *Universe) ordered(set map[*Element]bool) []string {
	out := make([]string, 0, len(set))
	for _, e := range u.elements {
		if set[e] {
			out = append(out, e.Name)
		}
	}
	return out
}

// Equal reports whether two universes define the same namespace, version and
// elements (docs included) in the same order.
func (u *Universe) Equal(o *Universe) bool {
	if u == o {
		return true
	}
	if u == nil || o == nil || u.Version != o.Version || u.Namespace != o.Namespace || len(u.elements) != len(o.elements) {
		return false
	}
	for i, a := range u.elements {
		b := o.elements[i]
		if a.Name != b.Name || a.Doc != b.Doc || a.Key != b.Key || a.Temporal != b.Temporal ||
			!slices.Equal(a.Requires, b.Requires) || !slices.Equal(a.Implies, b.Implies) ||
			!slices.Equal(a.Fields, b.Fields) {
			return false
		}
	}
	return true
}
