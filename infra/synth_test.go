package infra_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/skybutler/skybutler/infra"
)

// Two stacks are synthesized once, offline, and shared by every test: the
// defaults, and one with every setting changed.
var (
	synthOnce   sync.Once
	synthErr    error
	defStack    *synthesized
	customStack *synthesized
	synthTime   time.Duration
	functionDir string
)

// customProps are the non-default settings of the second stack.
var customProps = infra.StackProps{
	BucketNamePrefix:           "sky-test",
	NoncurrentVersionDays:      7,
	MapMaxConcurrency:          7,
	ToleratedFailurePercentage: 10,
	ExecuteItemsPerBatch:       4,
	IngestMaxConcurrency:       3,
	MaxReceiveCount:            4,
	CompactEveryHours:          6,
	GlueDatabase:               "sky_test",
	AthenaWorkGroup:            "sky-test",
}

type synthesized struct {
	stack *infra.Stack
	tmpl  assertions.Template
	// resources of the template, by logical ID
	resources map[string]resource
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

func TestMain(m *testing.M) {
	if _, err := exec.LookPath("node"); err != nil {
		// jsii runs the CDK in Node.js.
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "infra: the template tests need node (Node.js 20 or newer) on PATH")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "infra: node not found: skipping the template tests")
		os.Exit(0)
	}
	infra.QuietNode()
	dir, err := os.MkdirTemp("", "skybutler-infra-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	functionDir = dir
	// Placeholder bootstraps: synthesis only hashes and copies them.
	for _, f := range infra.Functions {
		if err := os.MkdirAll(filepath.Join(dir, f), 0o755); err == nil {
			err = os.WriteFile(filepath.Join(dir, f, "bootstrap"), []byte("placeholder "+f+"\n"), 0o755)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// stacks synthesizes both stacks on first use.
func stacks(t *testing.T) (*synthesized, *synthesized) {
	t.Helper()
	synthOnce.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				synthErr = fmt.Errorf("synthesis panicked: %v", r)
			}
		}()
		start := time.Now()
		outdir, err := os.MkdirTemp("", "skybutler-cdk-out")
		if err != nil {
			synthErr = err
			return
		}
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
		env := &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-west-2")}}
		def := infra.NewStack(app, "SkybutlerTest", &infra.StackProps{StackProps: *env, FunctionsDir: functionDir})
		cp := customProps
		cp.StackProps, cp.FunctionsDir = *env, functionDir
		custom := infra.NewStack(app, "SkybutlerCustom", &cp)
		defStack, synthErr = load(def)
		if synthErr == nil {
			customStack, synthErr = load(custom)
		}
		synthTime = time.Since(start)
		fmt.Fprintf(os.Stderr, "infra: synthesized 2 stacks in %v\n", synthTime.Round(time.Millisecond))
	})
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	return defStack, customStack
}

func load(st *infra.Stack) (*synthesized, error) {
	tmpl := assertions.Template_FromStack(st.Stack, nil)
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		return nil, err
	}
	var doc struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	return &synthesized{stack: st, tmpl: tmpl, resources: doc.Resources}, nil
}

// logicalID of a construct's CloudFormation resource.
func (s *synthesized) logicalID(c constructs.IConstruct) string {
	return *s.stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

// ofType lists the resources of one type, by logical ID.
func (s *synthesized) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range s.resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// has runs an assertions check, turning its panic into a test error.
func has(t *testing.T, check func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%v", r)
		}
	}()
	check()
}

// flat resolves a CloudFormation value to a string: Fn::Join is joined,
// and Ref / Fn::GetAtt become ${Ref:ID} / ${ID.Attr} placeholders (which
// keep JSON text valid when they stand inside a string).
func flat(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, flat(p))
			}
			return strings.Join(parts, j[0].(string))
		}
		if r, ok := x["Ref"].(string); ok {
			return "${Ref:" + r + "}"
		}
		if g, ok := x["Fn::GetAtt"].([]any); ok && len(g) == 2 {
			return "${" + g[0].(string) + "." + g[1].(string) + "}"
		}
	}
	b, _ := json.Marshal(v)
	return "${" + regexp.MustCompile(`["\\]`).ReplaceAllString(string(b), "'") + "}"
}

// list returns v as a list (a single value becomes a list of one).
func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// strictDecode decodes data into v refusing unknown fields: a payload the
// state machine builds must be exactly the shape the function reads.
func strictDecode(t *testing.T, what string, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, data)
	}
}
