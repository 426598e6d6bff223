package dimensions

import (
	"testing"
	"time"
)

func TestTimespan(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2025, 3, 1, h, 0, 0, 0, time.UTC) }
	span := func(b, e int) Timespan { return Timespan{Begin: at(b), End: at(e)} }
	var never time.Time
	from := func(b int) Timespan { return Timespan{Begin: at(b)} }
	until := func(e int) Timespan { return Timespan{End: at(e)} }
	always := Timespan{}

	for _, tc := range []struct {
		name string
		a, b Timespan
		want bool
	}{
		{"intervals sharing an hour overlap", span(1, 3), span(2, 4), true},
		{"one interval inside another overlaps", span(1, 5), span(2, 3), true},
		{"identical intervals overlap", span(1, 2), span(1, 2), true},
		{"touching intervals do not overlap (half-open)", span(1, 2), span(2, 3), false},
		{"touching the other way round do not overlap either", span(2, 3), span(1, 2), false},
		{"disjoint intervals do not overlap", span(1, 2), span(3, 4), false},
		{"an interval unbounded above overlaps a later one", from(1), span(5, 6), true},
		{"an interval unbounded above starting at the other's end does not overlap", from(2), span(1, 2), false},
		{"an interval unbounded below overlaps an earlier one", until(3), span(1, 2), true},
		{"an interval unbounded below ending at the other's start does not overlap", until(2), span(2, 3), false},
		{"two half-unbounded intervals facing away do not overlap", until(2), from(2), false},
		{"two half-unbounded intervals facing each other overlap", from(1), until(2), true},
		{"the unbounded interval overlaps everything", always, span(1, 2), true},
		{"two unbounded intervals overlap", always, always, true},
		{"an empty interval overlaps nothing, not even the unbounded one", span(2, 2), always, false},
		{"an empty interval inside another does not overlap it", span(1, 3), span(2, 2), false},
		{"a reversed interval is empty", span(3, 1), span(0, 5), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.Overlaps(tc.b); got != tc.want {
				t.Errorf("%v overlaps %v = %v, want %v", tc.a, tc.b, got, tc.want)
			}
			if got := tc.b.Overlaps(tc.a); got != tc.want {
				t.Errorf("overlap is not symmetric for %v and %v", tc.a, tc.b)
			}
		})
	}

	for _, tc := range []struct {
		name string
		span Timespan
		ts   time.Time
		want bool
	}{
		{"the begin is inside", span(1, 2), at(1), true},
		{"the end is outside", span(1, 2), at(2), false},
		{"an instant before the begin is outside", span(1, 2), at(1).Add(-time.Nanosecond), false},
		{"an instant just before the end is inside", span(1, 2), at(2).Add(-time.Nanosecond), true},
		{"an unbounded end contains the far future", from(1), at(1).AddDate(100, 0, 0), true},
		{"an unbounded begin contains the zero time", until(1), never, true},
		{"an empty span contains nothing", span(1, 1), at(1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.span.Contains(tc.ts); got != tc.want {
				t.Errorf("%v contains %v = %v, want %v", tc.span, tc.ts, got, tc.want)
			}
		})
	}

	t.Run("a timespan prints as a half-open interval", func(t *testing.T) {
		if got := from(1).String(); got != "[2025-03-01T01:00:00Z, +inf)" {
			t.Errorf("String() = %s", got)
		}
		if got := until(2).String(); got != "[-inf, 2025-03-01T02:00:00Z)" {
			t.Errorf("String() = %s", got)
		}
	})
}
