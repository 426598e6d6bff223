package infra_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/infra"
	"github.com/skybutler/skybutler/lib/execute"
	"github.com/skybutler/skybutler/lib/merge"
	"github.com/skybutler/skybutler/lib/qgraph"
)

type state = map[string]any

// definition parses the state machine's DefinitionString (a Fn::Join of
// JSON text and tokens: the tokens become ${...} placeholders).
func definition(t *testing.T, s *synthesized) state {
	t.Helper()
	sms := s.ofType("AWS::StepFunctions::StateMachine")
	if len(sms) != 1 {
		t.Fatalf("%d state machines, want 1", len(sms))
	}
	for _, sm := range sms {
		var def state
		text := flat(sm.Properties["DefinitionString"])
		if err := json.Unmarshal([]byte(text), &def); err != nil {
			t.Fatalf("definition: %v\n%s", err, text)
		}
		return def
	}
	return nil
}

// at follows a path of object keys.
func at(t *testing.T, v any, keys ...string) any {
	t.Helper()
	for i, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: not an object", strings.Join(keys[:i], "."))
		}
		if v, ok = m[k]; !ok {
			t.Fatalf("no %s", strings.Join(keys[:i+1], "."))
		}
	}
	return v
}

// allStates walks the states of a definition and of its maps' processors.
func allStates(def state, visit func(name string, st state)) {
	for name, st := range def["States"].(map[string]any) {
		st := st.(map[string]any)
		visit(name, st)
		for _, k := range []string{"ItemProcessor", "Iterator"} {
			if p, ok := st[k].(map[string]any); ok {
				allStates(p, visit)
			}
		}
	}
}

func TestStateMachineShape(t *testing.T) {
	def, custom := stacks(t)
	for _, c := range []struct {
		s               *synthesized
		concurrency     float64
		tolerated       any
		itemsPerBatcher any
	}{{def, 100, nil, nil}, {custom, 7, 10.0, 4.0}} {
		s := c.s
		d := definition(t, s)
		fn := func(name string) string { return "${" + s.logicalID(s.stack.Functions[name]) + ".Arn}" }
		states := d["States"].(map[string]any)
		if d["StartAt"] != infra.StatePlan {
			t.Errorf("StartAt %v", d["StartAt"])
		}
		invokes := func(st any, name string) {
			t.Helper()
			m := st.(map[string]any)
			if m["Type"] != "Task" || !strings.HasSuffix(m["Resource"].(string), ":states:::lambda:invoke") ||
				at(t, m, "Parameters", "FunctionName") != fn(name) {
				t.Errorf("task %v does not invoke %s", m, name)
			}
		}
		invokes(states[infra.StatePlan], infra.Plan)
		if at(t, states, infra.StatePlan, "Next") != infra.StateWaves {
			t.Error("Plan does not go on to the waves")
		}

		// One wave at a time.
		waves := states[infra.StateWaves].(map[string]any)
		if waves["Type"] != "Map" || waves["MaxConcurrency"] != 1.0 || waves["ItemsPath"] != "$.plan.waves" ||
			at(t, waves, "ItemProcessor", "ProcessorConfig", "Mode") != "INLINE" || waves["Next"] != infra.StateMerge {
			t.Errorf("waves map %v", waves)
		}
		// Inside: a Distributed Map reading the wave manifest.
		inner := at(t, waves, "ItemProcessor", "States").(map[string]any)
		run := inner[infra.StateRunWave].(map[string]any)
		if run["Type"] != "Map" || at(t, run, "ItemProcessor", "ProcessorConfig", "Mode") != "DISTRIBUTED" {
			t.Errorf("the wave is not a distributed map: %v", run)
		}
		reader := at(t, run, "ItemReader").(map[string]any)
		if !strings.HasSuffix(reader["Resource"].(string), ":states:::s3:getObject") ||
			at(t, reader, "ReaderConfig", "InputType") != "JSON" ||
			at(t, reader, "Parameters", "Bucket") != "${Ref:"+s.logicalID(s.stack.Bucket)+"}" ||
			at(t, reader, "Parameters", "Key.$") != "$.wave.object_key" {
			t.Errorf("item reader %v", reader)
		}
		if run["MaxConcurrency"] != c.concurrency || run["ToleratedFailurePercentage"] != c.tolerated {
			t.Errorf("distributed map: MaxConcurrency %v, ToleratedFailurePercentage %v; want %v, %v",
				run["MaxConcurrency"], run["ToleratedFailurePercentage"], c.concurrency, c.tolerated)
		}
		if b, _ := run["ItemBatcher"].(map[string]any); c.itemsPerBatcher == nil && b != nil ||
			c.itemsPerBatcher != nil && (b == nil || b["MaxItemsPerBatch"] != c.itemsPerBatcher) {
			t.Errorf("item batcher %v, want %v items", run["ItemBatcher"], c.itemsPerBatcher)
		}
		exec := at(t, run, "ItemProcessor", "States").(map[string]any)
		invokes(exec[infra.StateExecute], infra.Execute)

		// Merge, then a check; a failed wave still merges, then fails.
		invokes(states[infra.StateMerge], infra.Merge)
		invokes(states[infra.StateMergeAfterFailure], infra.Merge)
		catches := waves["Catch"].([]any)
		if len(catches) != 1 || !reflect.DeepEqual(at(t, catches[0], "ErrorEquals"), []any{"States.ALL"}) ||
			at(t, catches[0], "Next") != infra.StateMergeAfterFailure || at(t, catches[0], "ResultPath") != "$.error" {
			t.Errorf("waves catch %v", catches)
		}
		if next := at(t, states, infra.StateMergeAfterFailure, "Next"); next != infra.StateWavesFailed ||
			at(t, states, infra.StateWavesFailed, "Type") != "Fail" {
			t.Errorf("after the failure merge: %v", next)
		}
		if at(t, states, infra.StateMerge, "Next") != infra.StateCheckRun || at(t, states, infra.StateCheckRun, "Type") != "Choice" {
			t.Error("Merge is not followed by the run check")
		}

		// Every task retries the Lambda service errors with backoff.
		tasks := 0
		allStates(d, func(name string, st state) {
			if st["Type"] != "Task" {
				return
			}
			tasks++
			ok := false
			for _, r := range list(st["Retry"]) {
				r := r.(map[string]any)
				var errs []string
				for _, e := range r["ErrorEquals"].([]any) {
					errs = append(errs, e.(string))
				}
				all := true
				for _, e := range []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"} {
					all = all && slices.Contains(errs, e)
				}
				if all && r["BackoffRate"].(float64) > 1 && r["MaxAttempts"].(float64) >= 3 {
					ok = true
				}
			}
			if !ok {
				t.Errorf("task %s does not retry the Lambda service errors with backoff: %v", name, st["Retry"])
			}
		})
		if tasks != 4 {
			t.Errorf("%d tasks, want 4 (Plan, Execute, Merge, MergeAfterFailure)", tasks)
		}
	}
}

// The ASL evaluator below is just enough of the Amazon States Language
// (JSONPath "$.a.b" and "$$.Map.Item.Value", Parameters/ItemSelector with
// ".$" keys, ResultSelector, ResultPath, the Choice operators the run check
// uses) to compute what the state machine hands each function.

func path(t *testing.T, p string, input, ctx any) (any, bool) {
	t.Helper()
	var v any
	switch {
	case strings.HasPrefix(p, "$$"):
		v, p = ctx, p[2:]
	case strings.HasPrefix(p, "$"):
		v, p = input, p[1:]
	default:
		t.Fatalf("path %q", p)
	}
	for _, k := range strings.Split(strings.TrimPrefix(p, "."), ".") {
		if k == "" {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// render evaluates a Parameters-like template.
func render(t *testing.T, tmpl, input, ctx any) any {
	t.Helper()
	switch x := tmpl.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, v := range x {
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				val, found := path(t, v.(string), input, ctx)
				if !found {
					t.Fatalf("path %s of %s: not in %s", v, k, mustJSON(t, input))
				}
				out[name] = val
			} else {
				out[k] = render(t, v, input, ctx)
			}
		}
		return out
	case []any:
		var out []any
		for _, v := range x {
			out = append(out, render(t, v, input, ctx))
		}
		return out
	}
	return tmpl
}

// setPath returns input with v at a ResultPath ("$.a": a copy with a=v).
func setPath(t *testing.T, input any, resultPath any, v any) any {
	t.Helper()
	if resultPath == nil {
		return input
	}
	p := resultPath.(string)
	if p == "$" {
		return v
	}
	m := map[string]any{}
	for k, x := range input.(map[string]any) {
		m[k] = x
	}
	k, ok := strings.CutPrefix(p, "$.")
	if !ok || strings.Contains(k, ".") {
		t.Fatalf("ResultPath %q", p)
	}
	m[k] = v
	return m
}

// taskPayload is what a lambda:invoke task sends: Parameters.Payload.
func taskPayload(t *testing.T, st state, input any) []byte {
	t.Helper()
	params := render(t, st["Parameters"], input, nil).(map[string]any)
	return mustJSON(t, params["Payload"])
}

// taskResult applies ResultSelector and ResultPath to a function's answer.
func taskResult(t *testing.T, st state, input, answer any) any {
	t.Helper()
	res := map[string]any{"Payload": answer, "StatusCode": 200.0, "ExecutedVersion": "$LATEST"}
	var out any = res
	if sel, ok := st["ResultSelector"]; ok {
		out = render(t, sel, res, nil)
	}
	if op, ok := st["OutputPath"].(string); ok {
		v, _ := path(t, op, out, nil)
		out = v
	}
	rp, ok := st["ResultPath"]
	if !ok {
		rp = "$"
	}
	return setPath(t, input, rp, out)
}

func choose(t *testing.T, st state, input any) string {
	t.Helper()
	var eval func(c map[string]any) bool
	eval = func(c map[string]any) bool {
		switch {
		case c["Or"] != nil:
			for _, x := range c["Or"].([]any) {
				if eval(x.(map[string]any)) {
					return true
				}
			}
			return false
		case c["And"] != nil:
			for _, x := range c["And"].([]any) {
				if !eval(x.(map[string]any)) {
					return false
				}
			}
			return true
		}
		v, found := path(t, c["Variable"].(string), input, nil)
		switch {
		case c["IsPresent"] != nil:
			return found == c["IsPresent"].(bool)
		case c["NumericGreaterThan"] != nil:
			return found && v.(float64) > c["NumericGreaterThan"].(float64)
		case c["NumericLessThanPath"] != nil:
			w, ok := path(t, c["NumericLessThanPath"].(string), input, nil)
			return found && ok && v.(float64) < w.(float64)
		}
		t.Fatalf("choice operator %v", c)
		return false
	}
	for _, c := range st["Choices"].([]any) {
		if eval(c.(map[string]any)) {
			return c.(map[string]any)["Next"].(string)
		}
	}
	return st["Default"].(string)
}

func decodeAny(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestStateMachinePayloadsMatchTheEvents runs the definition on the
// example payloads: the start input is a plan request, the plan's answer
// (events/plan-response.json) leads to the wave manifests' keys, a manifest
// item reaches execute as events/execute-item.json (or, batched, as
// events/execute-items.json), and merge gets events/merge.json's shape.
func TestStateMachinePayloadsMatchTheEvents(t *testing.T) {
	def, custom := stacks(t)
	for _, s := range []*synthesized{def, custom} {
		d := definition(t, s)
		states := d["States"].(map[string]any)
		st := func(name string) state { return states[name].(map[string]any) }

		// Start -> Plan.
		start := readEvent(t, "statemachine-start.json")
		var req qgraph.PlanRequest
		strictDecode(t, "start input as a plan request", start, &req)
		if req.Pipeline == "" || len(req.Inputs) == 0 || req.Output == "" || req.DataQuery == "" {
			t.Errorf("events/statemachine-start.json lacks pipeline, inputs, output or data query: %+v", req)
		}
		input := decodeAny(t, start)
		var sent qgraph.PlanRequest
		strictDecode(t, "plan payload", taskPayload(t, st(infra.StatePlan), input), &sent)
		if !reflect.DeepEqual(sent, req) {
			t.Errorf("plan payload %+v, want the start input %+v", sent, req)
		}

		// The plan's answer -> $.plan.
		respJSON := readEvent(t, "plan-response.json")
		var resp qgraph.PlanResponse
		strictDecode(t, "plan response", respJSON, &resp)
		state1 := taskResult(t, st(infra.StatePlan), input, decodeAny(t, respJSON))
		if v, _ := path(t, "$.plan.graph_id", state1, nil); v != resp.GraphID {
			t.Fatalf("$.plan.graph_id = %v", v)
		}
		if v, _ := path(t, "$.pipeline", state1, nil); v != req.Pipeline {
			t.Errorf("the start input is lost after Plan: %v", state1)
		}

		// Waves -> one iteration per wave; its Distributed Map reads
		// s3://BUCKET/repo/qgraphs/GRAPH/waves/NNNN.json.
		waves := st(infra.StateWaves)
		items, _ := path(t, waves["ItemsPath"].(string), state1, nil)
		if len(items.([]any)) != len(resp.Waves) {
			t.Fatalf("%d wave iterations, want %d", len(items.([]any)), len(resp.Waves))
		}
		run := at(t, waves, "ItemProcessor", "States", infra.StateRunWave).(map[string]any)
		for i, item := range items.([]any) {
			iter := render(t, waves["ItemSelector"], state1, map[string]any{"Map": map[string]any{"Item": map[string]any{"Index": float64(i), "Value": item}}})
			reader := render(t, at(t, run, "ItemReader", "Parameters"), iter, nil).(map[string]any)
			if want := infra.RepoPrefix + "/" + qgraph.WaveKey(resp.GraphID, i); reader["Key"] != want {
				t.Errorf("wave %d: ItemReader key %v, want %s", i, reader["Key"], want)
			}
			if reader["Bucket"] != "${Ref:"+s.logicalID(s.stack.Bucket)+"}" {
				t.Errorf("wave %d: ItemReader bucket %v", i, reader["Bucket"])
			}

			// A manifest item (qgraph.BatchItem) -> Execute.
			itemJSON := readEvent(t, "execute-item.json")
			var bi qgraph.BatchItem
			strictDecode(t, "execute-item.json as a wave manifest item", itemJSON, &bi)
			var child any = decodeAny(t, itemJSON)
			if b, ok := run["ItemBatcher"].(map[string]any); ok {
				batchInput := render(t, b["BatchInput"], iter, nil)
				child = map[string]any{"BatchInput": batchInput, "Items": []any{child, child}}
				want := decodeAny(t, readEvent(t, "execute-items.json")).(map[string]any)
				if got := child.(map[string]any); !reflect.DeepEqual(keys(got), keys(want)) ||
					!reflect.DeepEqual(keys(got["BatchInput"].(map[string]any)), keys(want["BatchInput"].(map[string]any))) {
					t.Errorf("batched execute input %v, want the shape of events/execute-items.json %v", got, want)
				}
				if batchInput.(map[string]any)["graph_id"] != resp.GraphID {
					t.Errorf("BatchInput %v", batchInput)
				}
			}
			exec := at(t, run, "ItemProcessor", "States", infra.StateExecute).(map[string]any)
			payload := taskPayload(t, exec, child)
			var ev struct {
				execute.ExecuteEvent
				BatchInput map[string]any `json:"BatchInput"` // passed by an ItemBatcher, not read
			}
			strictDecode(t, "execute payload", payload, &ev)
			got := ev.Items
			if len(got) == 0 {
				got = []qgraph.BatchItem{ev.BatchItem}
			}
			for _, g := range got {
				if g != bi {
					t.Errorf("execute receives %+v, want %+v", g, bi)
				}
			}
			// Its answer becomes a small child output.
			answer := execute.ExecuteResult{GraphID: bi.GraphID, Batches: []string{bi.Batch, "w0-b"},
				Summary: execute.Summary{Quanta: 6, Succeeded: 5, Failed: 1}}
			out := mustJSON(t, taskResult(t, exec, child, decodeAny(t, mustJSON(t, answer))))
			if len(out) > 32 || !jsonEqual(t, out, []byte(`{"quanta":6,"failed":1}`)) {
				t.Errorf("execute's child output %s: want the counts only", out)
			}
			if i == 0 {
				if _, ok := run["ItemBatcher"]; !ok && !jsonEqual(t, payload, itemJSON) {
					t.Errorf("execute payload %s, want events/execute-item.json", payload)
				}
			}
		}
		// The Waves map discards its results: the state after it is state1.
		state2 := setPath(t, state1, waves["ResultPath"], "ignored")
		if !reflect.DeepEqual(state2, state1) {
			t.Errorf("the waves' results replace the state: ResultPath %v", waves["ResultPath"])
		}

		// Merge: {graph_id}, as events/merge.json.
		for _, m := range []string{infra.StateMerge, infra.StateMergeAfterFailure} {
			in := state2
			if m == infra.StateMergeAfterFailure {
				catch := waves["Catch"].([]any)[0].(map[string]any)
				in = setPath(t, state1, catch["ResultPath"], map[string]any{"Error": "States.ExceedToleratedFailureThreshold", "Cause": "too many failed batches"})
			}
			payload := taskPayload(t, st(m), in)
			var ev merge.Event
			strictDecode(t, m+" payload", payload, &ev)
			if ev.GraphID != resp.GraphID {
				t.Errorf("%s merges %q, want %q", m, ev.GraphID, resp.GraphID)
			}
			want := decodeAny(t, readEvent(t, "merge.json")).(map[string]any)
			if got := decodeAny(t, payload).(map[string]any); !reflect.DeepEqual(keys(got), keys(want)) {
				t.Errorf("%s payload %v, want the shape of events/merge.json %v", m, got, want)
			}
		}

		// The run check on merge's answers.
		for _, c := range []struct {
			statuses  map[string]int
			documents int
			want      string
		}{
			{map[string]int{"succeeded": resp.Quanta}, resp.Quanta, infra.StateSucceeded},
			{map[string]int{"succeeded": resp.Quanta - 3, "no_work": 3}, resp.Quanta, infra.StateSucceeded},
			{map[string]int{"succeeded": resp.Quanta - 1, "failed": 1}, resp.Quanta, infra.StateRunIncomplete},
			{map[string]int{"succeeded": resp.Quanta - 2, "failed": 1, "blocked": 1}, resp.Quanta, infra.StateRunIncomplete},
			{map[string]int{"succeeded": resp.Quanta - 5}, resp.Quanta - 5, infra.StateRunIncomplete},
			{map[string]int{}, 0, infra.StateRunIncomplete},
		} {
			answer := merge.Result{GraphID: resp.GraphID, Run: resp.OutputRun, Documents: c.documents, Merged: c.documents, Statuses: c.statuses}
			after := taskResult(t, st(infra.StateMerge), state2, decodeAny(t, mustJSON(t, answer)))
			if got := choose(t, st(infra.StateCheckRun), after); got != c.want {
				t.Errorf("merge answered %+v: run check -> %s, want %s", answer, got, c.want)
			}
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	return reflect.DeepEqual(decodeAny(t, a), decodeAny(t, b))
}
