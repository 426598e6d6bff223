package dimensions

// FieldType is the type of a key, implied or metadata column.
type FieldType string

// The field types a universe may use. Keys are int or string only.
const (
	TypeString    FieldType = "string"
	TypeInt       FieldType = "int"
	TypeFloat     FieldType = "float"
	TypeBool      FieldType = "bool"
	TypeTimestamp FieldType = "timestamp"
)

// Valid reports whether t is one of the five field types.
func (t FieldType) Valid() bool {
	switch t {
	case TypeString, TypeInt, TypeFloat, TypeBool, TypeTimestamp:
		return true
	}
	return false
}

// ValidKey reports whether t may type a primary key (int or string).
func (t FieldType) ValidKey() bool { return t == TypeInt || t == TypeString }

// Names of the two timespan columns of temporal elements.
const (
	TimespanBegin = "timespan_begin"
	TimespanEnd   = "timespan_end"
)

// Field is one named, typed column.
type Field struct {
	Name     string
	Type     FieldType
	Doc      string
	Nullable bool
}

// Element is one dimension of a universe. Every element of a universe is a
// dimension in this package (daf_butler's non-dimension elements such as
// visit_detector_region are not modelled).
type Element struct {
	Name     string
	Doc      string
	Key      Field    // the element's own primary-key field (Name "id" or "name")
	Requires []string // required dimensions (not itself), closed, universe order
	Implies  []string // implied dimensions (direct only), universe order
	Fields   []Field  // metadata fields (not keys, not implied, not timespan)
	Temporal bool     // records carry a timespan

	index   int     // position in universe order
	columns []Field // computed by Load
}

// Columns returns the flat table columns of the element's records: one per
// required dimension (named after it, typed as its key), the element's own
// key column named after the element, one per implied dimension (nullable),
// the metadata fields, and timespan_begin/timespan_end (nullable timestamps)
// when the element is temporal. The slice is a copy.
func (e *Element) Columns() []Field {
	return append([]Field(nil), e.columns...)
}

// KeyColumns returns the names of the primary-key columns: the required
// dimensions followed by the element itself.
func (e *Element) KeyColumns() []string {
	return append(append([]string(nil), e.Requires...), e.Name)
}

// Column returns the column with the given name.
func (e *Element) Column(name string) (Field, bool) {
	for _, c := range e.columns {
		if c.Name == name {
			return c, true
		}
	}
	return Field{}, false
}

// buildColumns computes e.columns; keyType resolves a dimension's key type.
func (e *Element) buildColumns(keyType func(string) FieldType) {
	cols := make([]Field, 0, len(e.Requires)+1+len(e.Implies)+len(e.Fields)+2)
	for _, r := range e.Requires {
		cols = append(cols, Field{Name: r, Type: keyType(r), Doc: "Key of the required dimension " + r + "."})
	}
	cols = append(cols, Field{Name: e.Name, Type: e.Key.Type, Doc: e.Key.Doc})
	for _, i := range e.Implies {
		cols = append(cols, Field{Name: i, Type: keyType(i), Doc: "Key of the implied dimension " + i + ".", Nullable: true})
	}
	cols = append(cols, e.Fields...)
	if e.Temporal {
		cols = append(cols,
			Field{Name: TimespanBegin, Type: TypeTimestamp, Doc: "Start of the timespan (inclusive); null is unbounded.", Nullable: true},
			Field{Name: TimespanEnd, Type: TypeTimestamp, Doc: "End of the timespan (exclusive); null is unbounded.", Nullable: true})
	}
	e.columns = cols
}
