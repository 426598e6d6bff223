package query

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Values inside the package (literals, bound values, resolved values) are
// always one of: nil (NULL; resolved values only), int64, float64, string,
// bool or time.Time in UTC.

// timeLayout is the canonical form of a time literal; trailing zero
// fractional digits (and the '.') are dropped.
const timeLayout = "2006-01-02T15:04:05.999999999"

// timeInputLayouts are the accepted forms inside T'...', after an optional
// trailing 'Z' is removed. time.Parse accepts a fractional second after
// seconds even though the layouts do not spell it.
var timeInputLayouts = []string{
	"2006-01-02",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
}

// parseTime decodes the text of a time literal as UTC.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range timeInputLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// normalize converts a Go value to the package's value types. Any integer
// kind becomes int64 (an unsigned value above math.MaxInt64 is an error),
// any float kind float64, named string and bool types their base type, and
// time.Time is converted to UTC with any monotonic clock reading dropped.
// nil stays nil. Slices are not handled here.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, int64, float64, string, bool:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case time.Time:
		return x.UTC().Round(0), nil
	case *time.Time:
		if x == nil {
			return nil, nil
		}
		return x.UTC().Round(0), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d is out of range", u)
		}
		return int64(u), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// typeName names a value's type in error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case int64:
		return "integer"
	case float64:
		return "float"
	case string:
		return "string"
	case bool:
		return "boolean"
	case time.Time:
		return "time"
	}
	return fmt.Sprintf("%T", v)
}

// formatValue prints a value as a literal that lexes and parses back to the
// same value.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEnN") { // keep it a float: 5 -> 5.0
			s += ".0"
		}
		return s
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case time.Time:
		return "T'" + x.UTC().Format(timeLayout) + "'"
	}
	return fmt.Sprint(v)
}

// checkLiteral reports why a normalized value cannot be a literal: floats
// must be finite and times must have a four-digit year, so that String()
// prints something Parse accepts.
func checkLiteral(v any) error {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("float %v is not finite", x)
		}
	case time.Time:
		if y := x.UTC().Year(); y < 0 || y > 9999 {
			return fmt.Errorf("time %v is outside years 0000-9999", x)
		}
	case nil:
		return fmt.Errorf("nil is not a value")
	}
	return nil
}
