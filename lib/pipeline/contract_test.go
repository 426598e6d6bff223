package pipeline

import (
	"strings"
	"testing"
)

func TestContractExpressions(t *testing.T) {
	env := map[string]Config{
		"isr": {"doDark": true, "darkScale": 1.5, "nIter": int64(3), "mode": "fast", "empty": "", "amps": []any{int64(1)},
			"none": nil, "connections": map[string]any{"dark": "masterDark"}},
		"measure": {"threshold": 5.0, "radius": int64(2)},
	}
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{"isr.doDark == True", true},
		{"isr.doDark", true},
		{"not isr.doDark", false},
		{"isr.doDark != False and isr.darkScale > 1", true},
		{"isr.darkScale > 2 or measure.threshold >= 5", true},
		{"isr.nIter == 3.0", true},
		{"isr.nIter < measure.threshold", true},
		{"1 < isr.nIter <= 3", true},
		{"1 < isr.nIter < 3", false},
		{"isr.mode == 'fast'", true},
		{`isr.mode != "slow"`, true},
		{"isr.mode < 'g'", true},
		{"isr.connections.dark == 'masterDark'", true},
		{"isr.empty", false},
		{"isr.none == None", true},
		{"isr.amps", true},
		{"measure.radius * 2 + 1 == 5", true},
		{"measure.threshold / 2 == 2.5", true},
		{"-measure.radius == -2", true},
		{"(isr.doDark or False) and not (measure.radius > 3)", true},
		{"isr.darkScale - 0.5 == 1", true},
		{"'a' + 'b' == 'ab'", true},
		{"true and not false", true},
		{"1e3 == 1000", true},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			e, _, err := parseContract(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			v, err := e.eval(env)
			if err != nil {
				t.Fatal(err)
			}
			if truthy(v) != tc.want {
				t.Errorf("= %v, want %v", v, tc.want)
			}
		})
	}
}

func TestContractErrors(t *testing.T) {
	env := map[string]Config{"isr": {"doDark": true, "mode": "fast", "opts": map[string]any{"a": int64(1)}}}
	for _, tc := range []struct {
		name string
		expr string
		want string
	}{
		{"a bare name is not a reference", "doDark", "write label.field"},
		{"an unterminated string", "isr.mode == 'fast", "unterminated string"},
		{"a stray character", "isr.doDark & True", "unexpected character"},
		{"a missing parenthesis", "(isr.doDark", "missing ')'"},
		{"trailing tokens", "isr.doDark True", "unexpected \"True\""},
		{"an unknown label", "vis.doDark", `no task labelled "vis"`},
		{"an unknown nested key", "isr.opts.b", `isr.opts has no field "b"`},
		{"a path through a scalar", "isr.mode.x", "isr.mode is string"},
		{"ordering mixed types", "isr.mode < 3", "cannot compare"},
		{"division by zero", "1 / 0 == 1", "division by zero"},
		{"arithmetic on a bool list mix", "isr.doDark + 'x'", "cannot apply"},
		{"deep nesting", strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200), "nested too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, err := parseContract(tc.expr)
			if err == nil {
				_, err = e.eval(env)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestContractLabels(t *testing.T) {
	_, labels, err := parseContract("a.x == b.y or a.z and not c.w.v")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(labels, ",") != "a,b,c" {
		t.Errorf("labels = %v", labels)
	}
}
