package qgraph

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/skybutler/skybutler/lib/datastore"
)

// Rendering a file template is the most expensive part of writing a
// batch, and the outputs of one dataset type differ only in their data ID
// values (and ID). So the template is rendered once per dataset type and
// "shape" (which of its dimension fields have values) with sentinel values,
// and the paths of the outputs are the rendered skeleton with the
// sentinels replaced by the values. This is only done when it cannot
// differ from Template.Render: every value is plain ASCII (letters, digits,
// '_', '-'), so no path cleaning applies; the template has no record
// fields and no padded integer formats. The first paths of every skeleton
// are rendered both ways and compared; a difference turns the shortcut
// off for the dataset type.

var fieldSpecRE = regexp.MustCompile(`\{([^{}]*)\}`)

const verifyRenders = 4

type fastTemplate struct {
	usable bool
	fields []string // the dimension fields, in order of first use
	usesID bool
	shapes map[uint64]*skeleton
}

type skeleton struct {
	parts    []string // literals around the slots
	slots    []int    // field index, or -1 for the ID
	verified int
}

func newFastTemplate(t *datastore.Template) *fastTemplate {
	ft := &fastTemplate{usable: true, shapes: map[uint64]*skeleton{}}
	for _, m := range fieldSpecRE.FindAllStringSubmatch(t.String(), -1) {
		_, spec, _ := strings.Cut(m[1], ":")
		if strings.Trim(spec, "?/ds") != "" {
			ft.usable = false // padded integers
		}
	}
	for _, f := range t.Fields() {
		switch {
		case strings.Contains(f, "."):
			ft.usable = false
		case f == datastore.FieldID:
			ft.usesID = true
		case f == datastore.FieldRun, f == datastore.FieldCollection, f == datastore.FieldDatasetType,
			f == datastore.FieldComponent, f == datastore.FieldStorageClass:
		default:
			ft.fields = append(ft.fields, f)
		}
	}
	if len(ft.fields) > 60 {
		ft.usable = false
	}
	return ft
}

// plain reports whether a value renders as itself.
func plain(v any) (string, bool) {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10), true
	case string:
		if x == "" {
			return "", false
		}
		for i := 0; i < len(x); i++ {
			c := x[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return "", false
			}
		}
		return x, true
	}
	return "", false
}

func intSentinel(i int) int64 { return 8642097531000000000 + int64(i)*1000003 }

func strSentinel(i int) string {
	return "Qzx" + string(rune('A'+i/26)) + string(rune('a'+i%26)) + "Sntl"
}

const idSentinel = "QzxIDSntlQzx"

// fastURI renders the path of an output from a cached skeleton; ok is
// false when the shortcut does not apply (the caller renders fully).
func (e *encoder) fastURI(ti *typeInfo, run string, uid [16]byte, kvs []kv) ([]byte, bool, error) {
	if e.fast == nil {
		e.fast = map[*typeInfo]*fastTemplate{}
	}
	ft := e.fast[ti]
	if ft == nil {
		ft = newFastTemplate(ti.tmpl)
		e.fast[ti] = ft
	}
	if !ft.usable {
		return nil, false, nil
	}
	vals := e.fastVals[:0]
	var shape uint64
	for i, f := range ft.fields {
		s := ""
		for _, x := range kvs {
			if x.name == f {
				if x.val == nil {
					break
				}
				var ok bool
				if s, ok = plain(x.val); !ok {
					return nil, false, nil
				}
				shape |= 1 << i
				break
			}
		}
		vals = append(vals, s)
	}
	e.fastVals = vals
	sk := ft.shapes[shape]
	if sk == nil {
		var err error
		if sk, err = buildSkeleton(ti, ft, shape, run); err != nil || sk == nil {
			ft.usable = false
			return nil, false, err
		}
		ft.shapes[shape] = sk
	}
	b := e.pathBuf[:0]
	for i, slot := range sk.slots {
		b = append(b, sk.parts[i]...)
		if slot < 0 {
			b = appendUUID(b, uid)
		} else {
			b = append(b, vals[slot]...)
		}
	}
	b = append(b, sk.parts[len(sk.parts)-1]...)
	e.pathBuf = b
	if len(b) > 900 {
		return nil, false, nil // let Render check the limits
	}
	if sk.verified < verifyRenders {
		sk.verified++
		full, err := ti.tmpl.Render(e.values(ti, run, uuidString(uid), kvs))
		if err != nil || full != string(b) {
			ft.usable = false
			return nil, false, nil
		}
	}
	return b, true, nil
}

// buildSkeleton renders the template with sentinels for one shape.
func buildSkeleton(ti *typeInfo, ft *fastTemplate, shape uint64, run string) (*skeleton, error) {
	dataID := map[string]any{}
	sentinels := map[string]int{}
	for i, f := range ft.fields {
		if shape&(1<<i) == 0 {
			continue
		}
		if intKey(ti, f) {
			v := intSentinel(i)
			dataID[f] = v
			sentinels[strconv.FormatInt(v, 10)] = i
		} else {
			v := strSentinel(i)
			dataID[f] = v
			sentinels[v] = i
		}
	}
	id := ""
	if ft.usesID {
		id = idSentinel
		sentinels[idSentinel] = -1
	}
	text, err := ti.tmpl.Render(datastore.Values{Run: run, DatasetType: ti.name, StorageClass: ti.storageClass, ID: id, DataID: dataID})
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", ti.name, err)
	}
	type hit struct{ pos, end, slot int }
	var hits []hit
	for s, slot := range sentinels {
		for from := 0; ; {
			i := strings.Index(text[from:], s)
			if i < 0 {
				break
			}
			hits = append(hits, hit{from + i, from + i + len(s), slot})
			from += i + len(s)
		}
	}
	sort.Slice(hits, func(a, b int) bool { return hits[a].pos < hits[b].pos })
	sk := &skeleton{}
	at := 0
	for _, h := range hits {
		if h.pos < at {
			return nil, nil // overlapping sentinels: no shortcut
		}
		sk.parts = append(sk.parts, text[at:h.pos])
		sk.slots = append(sk.slots, h.slot)
		at = h.end
	}
	sk.parts = append(sk.parts, text[at:])
	return sk, nil
}

// intKey reports whether a dimension's key is an integer (its sentinel
// must be one too, for formats like {exposure:d}).
func intKey(ti *typeInfo, dim string) bool {
	return slices.Contains(ti.intDims, dim)
}

// values are the full template values of an output.
func (e *encoder) values(ti *typeInfo, run, id string, kvs []kv) datastore.Values {
	clear(e.vals)
	for _, x := range kvs {
		e.vals[x.name] = x.val
	}
	return datastore.Values{Run: run, DatasetType: ti.name, StorageClass: ti.storageClass, ID: id, DataID: e.vals}
}
