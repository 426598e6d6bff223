package ingest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// missingError: a rule's source yielded no value. Returned unwrapped by
// evaluator.value, so that alternatives and optional rules can tell it from
// a hard error (a wrapped missingError, e.g. from a required rule that a
// ref points at, is hard).
type missingError struct {
	what   string // "header keyword OBSID", "header keywords DATE-BEG, DATE-OBS"
	header bool   // the missing thing is a header keyword
}

func (e *missingError) Error() string { return "missing " + e.what }

// Is makes a missing header keyword match ErrMissingKeyword.
func (e *missingError) Is(target error) bool { return e.header && target == ErrMissingKeyword }

// evaluator computes the values of one rule set for one header. Values of
// data ID rules and record columns ("nodes") are computed once, on demand,
// so rules may refer to each other in any order (NewTranslator rejects
// cycles).
type evaluator struct {
	t    *Translator
	rs   *ruleSet
	h    Header
	memo map[string]any
	busy map[string]bool
}

func newEvaluator(t *Translator, rs *ruleSet, h Header) *evaluator {
	return &evaluator{t: t, rs: rs, h: h, memo: map[string]any{}, busy: map[string]bool{}}
}

// eval returns the value of r: nil for an optional rule that yields nothing,
// an error naming the rule for a required one.
func (e *evaluator) eval(r *rule) (any, error) {
	v, err := e.value(r)
	if m, ok := err.(*missingError); ok {
		if r.optional {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", r.path, m)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.path, err)
	}
	return v, nil
}

// value returns r's value, or an unwrapped *missingError when it yields
// nothing.
func (e *evaluator) value(r *rule) (any, error) {
	if len(r.alts) > 0 {
		var missing []string
		for _, a := range r.alts {
			v, err := e.value(a)
			m, isMissing := err.(*missingError)
			switch {
			case err == nil:
				return v, nil
			case !isMissing:
				return nil, err
			case !a.optional:
				missing = append(missing, m.what)
			}
		}
		return nil, &missingError{what: strings.Join(missing, ", or "), header: len(missing) > 0}
	}
	v, src, err := e.source(r)
	if err != nil {
		return nil, err
	}
	if v != nil {
		v, err = e.transform(r, v, src)
		if err != nil {
			return nil, err
		}
	}
	if v == nil {
		if r.hasDefault {
			return r.def, nil
		}
		return nil, &missingError{what: src, header: len(r.headers) > 0}
	}
	return v, nil
}

// source returns the raw value of r's source (nil when there is none) and a
// description of it for messages.
func (e *evaluator) source(r *rule) (any, string, error) {
	switch {
	case len(r.headers) > 0:
		for _, k := range r.headers {
			c, ok := e.h.Card(k)
			if !ok {
				continue
			}
			if c.Malformed != "" {
				return nil, "", fmt.Errorf("header keyword %s: malformed value %s", k, quoteText(c.Malformed))
			}
			if c.Value != nil {
				return c.Value, "header keyword " + k, nil
			}
		}
		if len(r.headers) == 1 {
			return nil, "header keyword " + r.headers[0], nil
		}
		return nil, "header keywords " + strings.Join(r.headers, ", "), nil
	case r.hasValue:
		return r.value, "constant", nil
	case r.ref != "":
		v, err := e.node(r.ref)
		if err != nil {
			return nil, "", err
		}
		return v, "a value for " + r.ref, nil
	}
	return nil, "a value", nil // default only
}

// transform applies r's transforms in order: map, format, scale and add,
// add_seconds, convert.
func (e *evaluator) transform(r *rule, v any, src string) (any, error) {
	if r.mapping != nil {
		mv, ok := r.mapping[matchKey(v)]
		switch {
		case ok:
			v = mv
		case r.hasMapDef:
			v = r.mapDefault
		default:
			return nil, fmt.Errorf("%s is %s, which the map does not list (it has %s; add it or a \"*\" entry)",
				src, describeValue(v), strings.Join(r.mapOrder, ", "))
		}
		if v == nil {
			return nil, nil
		}
	}
	var err error
	switch r.format {
	case "isot":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s is %s, not an ISO time string", src, describeValue(v))
		}
		if v, err = parseISOT(s); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
	case "mjd":
		f, ok := toFloat(v)
		if !ok {
			return nil, fmt.Errorf("%s is %s, not an MJD number", src, describeValue(v))
		}
		if v, err = fromMJD(f); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
	}
	if r.scale != nil || r.add != nil {
		f, ok := toFloat(v)
		if !ok {
			return nil, fmt.Errorf("%s is %s, not a number to scale", src, describeValue(v))
		}
		if r.scale != nil {
			f *= *r.scale
		}
		if r.add != nil {
			f += *r.add
		}
		v = f
	}
	if r.addSeconds != nil {
		t, ok := v.(time.Time)
		if !ok {
			return nil, fmt.Errorf("add_seconds: %s is %s, not a time (use format: isot or mjd)", src, describeValue(v))
		}
		sv, err := e.value(r.addSeconds)
		if err != nil {
			return nil, err // a missing number of seconds leaves the rule without a value
		}
		secs, ok := toFloat(sv)
		if !ok || math.IsNaN(secs) || math.Abs(secs) > 1e9 {
			return nil, fmt.Errorf("add_seconds: %s is not a number of seconds", describeValue(sv))
		}
		v = t.Add(time.Duration(math.Round(secs * 1e9)))
	}
	switch r.convert {
	case "day_obs":
		t, ok := v.(time.Time)
		if !ok {
			if t, err = parseISOT(fmt.Sprint(v)); err != nil {
				return nil, fmt.Errorf("convert day_obs: %s is %s, not a time", src, describeValue(v))
			}
		}
		v = DayObs(t, e.t.offset)
	case "day_obs_begin", "day_obs_end":
		d, ok := toInt(v)
		if !ok {
			return nil, fmt.Errorf("convert %s: %s is %s, not a YYYYMMDD day_obs", r.convert, src, describeValue(v))
		}
		span, err := DayObsTimespan(d, e.t.offset)
		if err != nil {
			return nil, fmt.Errorf("convert %s: %w", r.convert, err)
		}
		if r.convert == "day_obs_begin" {
			v = span.Begin
		} else {
			v = span.End
		}
	}
	return v, nil
}

// node returns the value of a data ID rule ("data_id.exposure") or a record
// column ("exposure.obs_id"), coerced to its type; nil when it has no rule
// or an optional rule yields nothing.
func (e *evaluator) node(name string) (any, error) {
	if v, ok := e.memo[name]; ok {
		return v, nil
	}
	if e.busy[name] {
		return nil, fmt.Errorf("%s depends on itself", name)
	}
	e.busy[name] = true
	defer delete(e.busy, name)
	v, err := e.computeNode(name)
	if err != nil {
		return nil, err
	}
	e.memo[name] = v
	return v, nil
}

func (e *evaluator) computeNode(name string) (any, error) {
	u := e.t.u
	if dim, ok := strings.CutPrefix(name, "data_id."); ok {
		if dim == "instrument" {
			return e.t.def.Name, nil
		}
		r := e.rs.dataID[dim]
		if r == nil {
			return nil, nil
		}
		v, err := e.eval(r)
		if err != nil {
			return nil, err
		}
		cv, err := coerceTo(u.KeyType(dim), v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.path, err)
		}
		return cv, nil
	}
	elem, col, _ := strings.Cut(name, ".")
	r := e.rs.records[elem][col]
	if r == nil {
		return nil, nil
	}
	v, err := e.eval(r)
	if err != nil {
		return nil, err
	}
	el, _ := u.Element(elem)
	f, _ := el.Column(col)
	cv, err := coerceTo(f.Type, v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.path, err)
	}
	return cv, nil
}

// coerceTo converts a rule's value to a column or key type. Beyond
// dimensions.Coerce, numbers and logicals become strings for string
// columns (GROUPID = 17 -> "17") and strings are read as ISO times for
// timestamp columns.
func coerceTo(t dimensions.FieldType, v any) (any, error) {
	switch t {
	case dimensions.TypeString:
		switch x := v.(type) {
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
	case dimensions.TypeTimestamp:
		if s, ok := v.(string); ok {
			return parseISOT(s)
		}
		switch v.(type) {
		case int64, float64:
			return nil, fmt.Errorf("cannot use %s as a time (add format: mjd for a Modified Julian Date)", describeValue(v))
		}
	}
	return dimensions.Coerce(t, v)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case string:
		return parseFITSFloat(strings.TrimSpace(x))
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if i := int64(x); float64(i) == x {
			return i, true
		}
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return i, err == nil
	}
	return 0, false
}

var errBadTime = errors.New("want an ISO time YYYY-MM-DDThh:mm:ss[.sss] (UTC)")

// parseISOT reads a FITS date-time ("2026-03-01T04:05:06.789", an optional
// trailing Z, or a bare date "2026-03-01") as UTC.
func parseISOT(s string) (time.Time, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "Z")
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", time.DateOnly} {
		if ts, err := time.Parse(layout, t); err == nil {
			return ts.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %s as a time: %w", quoteText(s), errBadTime)
}

// mjdEpoch is MJD 0, 1858-11-17T00:00:00 UTC.
var mjdEpoch = time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)

// fromMJD converts a Modified Julian Date (UTC) to a time, to the
// microsecond.
func fromMJD(mjd float64) (time.Time, error) {
	if math.IsNaN(mjd) || mjd < -100000 || mjd > 2000000 {
		return time.Time{}, fmt.Errorf("MJD %g is out of range", mjd)
	}
	days := math.Floor(mjd)
	us := math.Round((mjd - days) * 86400e6)
	return mjdEpoch.AddDate(0, 0, int(days)).Add(time.Duration(us) * time.Microsecond), nil
}

// DayObs returns the observing day of t as a YYYYMMDD integer: the UTC date
// of t + offset. With Rubin's offset of -12h the day rolls over at 12:00
// UTC, so a night's exposures share one day_obs.
func DayObs(t time.Time, offset time.Duration) int64 {
	d := t.Add(offset).UTC()
	return int64(d.Year()*10000 + int(d.Month())*100 + d.Day())
}

// DayObsTimespan returns the interval an observing day covers:
// [date 00:00 UTC - offset, +24h).
func DayObsTimespan(dayObs int64, offset time.Duration) (dimensions.Timespan, error) {
	y, m, d := int(dayObs/10000), int(dayObs/100%100), int(dayObs%100)
	begin := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if dayObs < 10000101 || dayObs > 99991231 || begin.Year() != y || int(begin.Month()) != m || begin.Day() != d {
		return dimensions.Timespan{}, fmt.Errorf("%d is not a valid YYYYMMDD day_obs", dayObs)
	}
	begin = begin.Add(-offset)
	return dimensions.Timespan{Begin: begin, End: begin.Add(24 * time.Hour)}, nil
}
