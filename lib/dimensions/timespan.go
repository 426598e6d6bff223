package dimensions

import (
	"fmt"
	"time"
)

// Timespan is the half-open interval [Begin, End). A zero Begin is unbounded
// below, a zero End unbounded above. A timespan with both bounds set and
// End <= Begin is empty: it contains no instant and overlaps nothing.
type Timespan struct {
	Begin, End time.Time
}

// Empty reports whether t contains no instant.
func (t Timespan) Empty() bool {
	return !t.Begin.IsZero() && !t.End.IsZero() && !t.Begin.Before(t.End)
}

// Contains reports whether ts lies in [Begin, End).
func (t Timespan) Contains(ts time.Time) bool {
	if t.Empty() {
		return false
	}
	return (t.Begin.IsZero() || !ts.Before(t.Begin)) && (t.End.IsZero() || ts.Before(t.End))
}

// Overlaps reports whether t and o share at least one instant. Touching
// intervals ([a, b) and [b, c)) do not overlap; empty timespans overlap
// nothing; unbounded ends overlap everything on their side.
func (t Timespan) Overlaps(o Timespan) bool {
	if t.Empty() || o.Empty() {
		return false
	}
	// t.Begin < o.End and o.Begin < t.End, with zero meaning unbounded.
	return (t.Begin.IsZero() || o.End.IsZero() || t.Begin.Before(o.End)) &&
		(o.Begin.IsZero() || t.End.IsZero() || o.Begin.Before(t.End))
}

// String formats t as "[begin, end)" in RFC 3339, "-inf"/"+inf" for
// unbounded ends.
func (t Timespan) String() string {
	b, e := "-inf", "+inf"
	if !t.Begin.IsZero() {
		b = t.Begin.UTC().Format(time.RFC3339Nano)
	}
	if !t.End.IsZero() {
		e = t.End.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("[%s, %s)", b, e)
}

// timespanValue reads a "timespan" record value: a Timespan, *Timespan or a
// mapping with optional "begin" and "end" (RFC 3339 strings or time.Time).
func timespanValue(v any) (begin, end any, err error) {
	switch x := v.(type) {
	case nil:
		return nil, nil, nil
	case Timespan:
		return timeOrNil(x.Begin), timeOrNil(x.End), nil
	case *Timespan:
		if x == nil {
			return nil, nil, nil
		}
		return timeOrNil(x.Begin), timeOrNil(x.End), nil
	case map[string]any:
		for k := range x {
			if k != "begin" && k != "end" {
				return nil, nil, fmt.Errorf("timespan: unknown key %q (want begin and end)", k)
			}
		}
		return x["begin"], x["end"], nil
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, nil, fmt.Errorf("timespan: unknown key %v (want begin and end)", k)
			}
			m[ks] = val
		}
		return timespanValue(m)
	}
	return nil, nil, fmt.Errorf("timespan: cannot use %s (want a mapping with begin and end)", describe(v))
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
