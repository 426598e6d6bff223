package dimensions

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/skybutler/skybutler/lib/yamlnode"
)

// Coerce converts v to the Go representation of type t: int64, float64,
// string, bool or time.Time (UTC). nil stays nil. Accepted inputs:
//
//   - int: any Go integer, a float with an integral value, a decimal string
//     ("12") or a json.Number;
//   - float: any Go integer or float, a numeric string or a json.Number;
//   - string: a string only (an integer is an error, not "12");
//   - bool: a bool or the strings "true"/"false";
//   - timestamp: a time.Time or a string in RFC 3339 ("2025-03-01T04:05:06Z",
//     fractional seconds allowed), "2006-01-02T15:04:05" or "2006-01-02"
//     (both read as UTC).
func Coerce(t FieldType, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case TypeInt:
		if i, ok := toInt(v); ok {
			return i, nil
		}
		if f, ok := v.(float64); ok && f != math.Trunc(f) {
			return nil, fmt.Errorf("cannot use %v (float64) as int: not a whole number", f)
		}
	case TypeFloat:
		if f, ok := toFloat(v); ok {
			return f, nil
		}
	case TypeBool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(b)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
	case TypeTimestamp:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case *time.Time:
			if x == nil {
				return nil, nil
			}
			return x.UTC(), nil
		case string:
			if ts, err := ParseTime(x); err == nil {
				return ts, nil
			}
		}
	default:
		return nil, fmt.Errorf("unknown field type %q", t)
	}
	return nil, fmt.Errorf("cannot use %s as %s", describe(v), t)
}

// ParseTime reads a timestamp in one of the layouts Coerce accepts, in UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", time.DateOnly} {
		if ts, err := time.Parse(layout, s); err == nil {
			return ts.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a timestamp (want RFC 3339, e.g. 2025-03-01T04:05:06Z)", yamlnode.Truncate(s, 60))
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q (string)", yamlnode.Truncate(x, 60))
	case time.Time:
		return x.Format(time.RFC3339Nano) + " (time)"
	}
	s := fmt.Sprintf("%v", v)
	return fmt.Sprintf("%s (%T)", yamlnode.Truncate(s, 60), v)
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint:
		return int64(x), uint64(x) <= math.MaxInt64
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return int64(x), x <= math.MaxInt64
	case float32:
		return floatToInt(float64(x))
	case float64:
		return floatToInt(x)
	case json.Number:
		return stringToInt(string(x))
	case string:
		return stringToInt(x)
	}
	return 0, false
}

func stringToInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	return 0, false
}

func floatToInt(f float64) (int64, bool) {
	// -2^63 is exact in float64; 2^63 is not representable as int64.
	if f != math.Trunc(f) || f < -9223372036854775808 || f >= 9223372036854775808 {
		return 0, false
	}
	return int64(f), true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	if i, ok := toInt(v); ok {
		return float64(i), true
	}
	return 0, false
}
