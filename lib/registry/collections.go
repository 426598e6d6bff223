package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// CollectionType is the kind of a collection (daf_butler semantics).
type CollectionType string

// Collection types.
const (
	Run         CollectionType = "RUN"         // datasets are born in exactly one RUN
	Tagged      CollectionType = "TAGGED"      // a set of datasets from any runs
	Calibration CollectionType = "CALIBRATION" // datasets with validity timespans
	Chained     CollectionType = "CHAINED"     // an ordered search path of other collections
)

// ParseCollectionType accepts a type name in any case.
func ParseCollectionType(s string) (CollectionType, error) {
	t := CollectionType(strings.ToUpper(s))
	switch t {
	case Run, Tagged, Calibration, Chained:
		return t, nil
	}
	return "", Errorf(ErrInvalid, "collection type %q: want RUN, TAGGED, CALIBRATION or CHAINED", s)
}

// Collection is one collection; Children is the search path of a CHAINED one.
type Collection struct {
	Name     string         `json:"name"`
	Type     CollectionType `json:"type"`
	Doc      string         `json:"doc,omitempty"`
	Children []string       `json:"children,omitempty"`
}

// ValidateCollectionName rejects names that cannot be used safely on a
// command line, in a path or in a glob: empty, over 256 bytes, whitespace,
// control characters, commas and glob metacharacters.
func ValidateCollectionName(name string) error {
	if name == "" || len(name) > 256 {
		return Errorf(ErrInvalid, "collection name %q: must be 1 to 256 bytes", name)
	}
	for _, r := range name {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(",*?[]{}\\'\"", r) || r == unicode.ReplacementChar {
			return Errorf(ErrInvalid, "collection name %q: character %q not allowed", name, r)
		}
	}
	if strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		return Errorf(ErrInvalid, "collection name %q: empty path element", name)
	}
	return nil
}

// collectionSet is the collections of a snapshot plus a Tx's pending edits.
type collectionSet map[string]*Collection

func (s *Snapshot) collectionSet(ctx context.Context) (collectionSet, error) {
	return loadCollectionSet(ctx, s, nil)
}

func loadCollectionSet(ctx context.Context, s *Snapshot, tx *Tx) (collectionSet, error) {
	rows, err := s.Rows(ctx, TableCollections)
	if err != nil {
		return nil, err
	}
	chains, err := s.Rows(ctx, TableCollectionChains)
	if err != nil {
		return nil, err
	}
	if tx != nil {
		rows = append(slices.Clip(rows), tx.Pending(TableCollections)...)
		chains = append(slices.Clip(chains), tx.Pending(TableCollectionChains)...)
	}
	set := make(collectionSet, len(rows))
	for _, r := range rows {
		c := &Collection{Name: collectionsSchema.Str(r, "name"), Type: CollectionType(collectionsSchema.Str(r, "type")), Doc: collectionsSchema.Str(r, "doc")}
		set[c.Name] = c
	}
	type link struct {
		pos   int64
		child string
	}
	links := map[string][]link{}
	for _, r := range chains {
		p := chainsSchema.Str(r, "parent")
		links[p] = append(links[p], link{chainsSchema.Int(r, "position"), chainsSchema.Str(r, "child")})
	}
	for p, ls := range links {
		slices.SortFunc(ls, func(a, b link) int { return int(a.pos - b.pos) })
		if c, ok := set[p]; ok {
			for _, l := range ls {
				c.Children = append(c.Children, l.child)
			}
		}
	}
	return set, nil
}

// Collections returns every collection, sorted by name.
func (s *Snapshot) Collections(ctx context.Context) ([]Collection, error) {
	set, err := s.collectionSet(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Collection, 0, len(set))
	for _, c := range set {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Collection) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Collection returns one collection or ErrNotFound.
func (s *Snapshot) Collection(ctx context.Context, name string) (Collection, error) {
	set, err := s.collectionSet(ctx)
	if err != nil {
		return Collection{}, err
	}
	c, ok := set[name]
	if !ok {
		return Collection{}, Errorf(ErrNotFound, "collection %q", name)
	}
	return *c, nil
}

// Flatten expands a search path: CHAINED collections are replaced by their
// children, depth first, keeping the first occurrence of each collection.
// Unknown names are ErrNotFound.
func (s *Snapshot) Flatten(ctx context.Context, names []string) ([]string, error) {
	set, err := s.collectionSet(ctx)
	if err != nil {
		return nil, err
	}
	return set.flatten(names)
}

func (set collectionSet) flatten(names []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var walk func(name string, depth int) error
	walk = func(name string, depth int) error {
		c, ok := set[name]
		if !ok {
			return Errorf(ErrNotFound, "collection %q", name)
		}
		if depth > 1000 {
			return Errorf(ErrCorrupt, "collection %q: chain too deep (cycle?)", name)
		}
		if c.Type != Chained {
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
			return nil
		}
		for _, ch := range c.Children {
			if err := walk(ch, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range names {
		if err := walk(n, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// reaches reports whether target is reachable from name along chain links.
func (set collectionSet) reaches(name, target string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(n string) bool {
		if n == target {
			return true
		}
		if seen[n] {
			return false
		}
		seen[n] = true
		if c, ok := set[n]; ok {
			for _, ch := range c.Children {
				if walk(ch) {
					return true
				}
			}
		}
		return false
	}
	return walk(name)
}

// RegisterCollection adds a collection of a non-CHAINED or CHAINED type
// (an empty chain) in tx. An existing name is ErrAlreadyExists.
func RegisterCollection(tx *Tx, c Collection) error {
	if err := ValidateCollectionName(c.Name); err != nil {
		return err
	}
	if _, err := ParseCollectionType(string(c.Type)); err != nil {
		return err
	}
	set, err := loadCollectionSet(tx.Context(), tx.Snapshot(), tx)
	if err != nil {
		return err
	}
	if old, ok := set[c.Name]; ok {
		return Errorf(ErrAlreadyExists, "collection %q already exists (type %s)", c.Name, old.Type)
	}
	return tx.Insert(TableCollections, Row{c.Name, string(c.Type), c.Doc})
}

// RegisterCollections registers collections in one commit; all or none.
func (r *Registry) RegisterCollections(ctx context.Context, cs ...Collection) (Result, error) {
	return r.Commit(ctx, "register-collection", func(tx *Tx) error {
		var names []string
		for _, c := range cs {
			if err := RegisterCollection(tx, c); err != nil {
				return err
			}
			names = append(names, c.Name)
		}
		tx.Summarize("collections", names)
		return nil
	})
}

// ChainMode says how collection-chain changes a chain (butler collection-chain).
type ChainMode string

// Chain modes.
const (
	ChainRedefine ChainMode = "redefine" // replace the children
	ChainExtend   ChainMode = "extend"   // append; children already present move to the end
	ChainPrepend  ChainMode = "prepend"  // insert at the front; present ones move there
	ChainRemove   ChainMode = "remove"   // drop the named children (absent ones are ignored)
	ChainPop      ChainMode = "pop"      // drop children by position (default 0)
)

// ParseChainMode checks a mode name.
func ParseChainMode(s string) (ChainMode, error) {
	m := ChainMode(strings.ToLower(s))
	switch m {
	case ChainRedefine, ChainExtend, ChainPrepend, ChainRemove, ChainPop:
		return m, nil
	}
	return "", Errorf(ErrInvalid, "chain mode %q: want redefine, extend, prepend, remove or pop", s)
}

// ChainOptions refine UpdateChain.
type ChainOptions struct {
	Doc     string // documentation of the parent when it is created
	Flatten bool   // replace CHAINED children by their flattened search paths
}

// UpdateChain edits the children of a CHAINED collection, creating it for
// redefine/extend/prepend when it does not exist. Children must exist; a
// change that would make a cycle is ErrConflict. It returns the new chain.
func UpdateChain(tx *Tx, parent string, args []string, mode ChainMode, opts ChainOptions) ([]string, error) {
	ctx := tx.Context()
	set, err := loadCollectionSet(ctx, tx.Snapshot(), tx)
	if err != nil {
		return nil, err
	}
	pc, exists := set[parent]
	if exists && pc.Type != Chained {
		return nil, Errorf(ErrConflict, "collection %q is %s, not CHAINED", parent, pc.Type)
	}
	var old []string
	if exists {
		old = pc.Children
	} else if mode == ChainRemove || mode == ChainPop {
		return nil, Errorf(ErrNotFound, "chained collection %q", parent)
	}
	children := args
	if mode != ChainPop {
		for _, ch := range children {
			if _, ok := set[ch]; !ok {
				return nil, Errorf(ErrNotFound, "child collection %q", ch)
			}
		}
		if opts.Flatten {
			if children, err = set.flatten(children); err != nil {
				return nil, err
			}
		}
	}
	next, err := chainEdit(old, children, mode)
	if err != nil {
		return nil, err
	}
	for _, ch := range next {
		if ch == parent || set.reaches(ch, parent) {
			return nil, Errorf(ErrConflict, "adding %q to chain %q would make a cycle", ch, parent)
		}
	}
	if !exists {
		if err := ValidateCollectionName(parent); err != nil {
			return nil, err
		}
		if err := tx.Insert(TableCollections, Row{parent, string(Chained), opts.Doc}); err != nil {
			return nil, err
		}
	} else if slices.Equal(old, next) {
		return next, nil
	}
	if _, err := tx.DeleteWhere(TableCollectionChains, func(r Row) bool { return chainsSchema.Str(r, "parent") == parent }); err != nil {
		return nil, err
	}
	for i, ch := range next {
		if err := tx.Insert(TableCollectionChains, Row{parent, int64(i), ch}); err != nil {
			return nil, err
		}
	}
	return next, nil
}

// chainEdit computes the new child list of a chain.
func chainEdit(old, args []string, mode ChainMode) ([]string, error) {
	without := func(list, drop []string) []string {
		var out []string
		for _, x := range list {
			if !slices.Contains(drop, x) {
				out = append(out, x)
			}
		}
		return out
	}
	if mode != ChainPop {
		seen := map[string]bool{}
		for _, a := range args {
			if seen[a] {
				return nil, Errorf(ErrInvalid, "collection %q given twice", a)
			}
			seen[a] = true
		}
	}
	switch mode {
	case ChainRedefine:
		return slices.Clone(args), nil
	case ChainExtend:
		return append(without(old, args), args...), nil
	case ChainPrepend:
		return append(slices.Clone(args), without(old, args)...), nil
	case ChainRemove:
		return without(old, args), nil
	case ChainPop:
		idx := map[int]bool{}
		if len(args) == 0 {
			args = []string{"0"}
		}
		for _, a := range args {
			var i int
			if _, err := fmt.Sscanf(a, "%d", &i); err != nil || fmt.Sprint(i) != a {
				return nil, Errorf(ErrInvalid, "pop: %q is not a position", a)
			}
			if i < 0 {
				i += len(old)
			}
			if i < 0 || i >= len(old) {
				return nil, Errorf(ErrInvalid, "pop: position %s is outside a chain of %d", a, len(old))
			}
			idx[i] = true
		}
		var out []string
		for i, x := range old {
			if !idx[i] {
				out = append(out, x)
			}
		}
		return out, nil
	}
	return nil, Errorf(ErrInvalid, "chain mode %q", mode)
}

// SetChain runs UpdateChain in its own commit.
func (r *Registry) SetChain(ctx context.Context, parent string, children []string, mode ChainMode, opts ChainOptions) ([]string, error) {
	var out []string
	_, err := r.Commit(ctx, "collection-chain", func(tx *Tx) error {
		var err error
		out, err = UpdateChain(tx, parent, children, mode, opts)
		tx.Summarize("parent", parent)
		tx.Summarize("mode", string(mode))
		return err
	})
	return out, err
}
