package datastore

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// normalizeDict converts what the JSON and YAML decoders produce into the
// value types documented on Dict.
func normalizeDict(m map[string]any) (Dict, error) {
	out := make(Dict, len(m))
	for k, v := range m {
		nv, err := normalizeValue(v)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		out[k] = nv
	}
	return out, nil
}

func normalizeValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return float64(x), nil
		}
		return int64(x), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return nil, fmt.Errorf("number %s: %w", x, err)
		}
		return f, nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			ne, err := normalizeValue(e)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = ne
		}
		return out, nil
	case map[string]any:
		d, err := normalizeDict(x)
		if err != nil {
			return nil, err
		}
		return map[string]any(d), nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("mapping key %v is a %T, not a string", k, k)
			}
			ne, err := normalizeValue(e)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", ks, err)
			}
			out[ks] = ne
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}
