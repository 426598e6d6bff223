package infra_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"

	"github.com/skybutler/skybutler/infra"
)

// statement is an Allow statement with its resources flattened.
type statement struct {
	actions, resources []string
}

// grants lists the Allow statements of every policy attached to a role
// (policies naming the role, and the role's inline policies).
func grants(s *synthesized, role awsiam.IRole) []statement {
	roleID := s.logicalID(role)
	var docs []any
	for _, p := range s.ofType("AWS::IAM::Policy") {
		for _, r := range list(p.Properties["Roles"]) {
			if flat(r) == "${Ref:"+roleID+"}" {
				docs = append(docs, p.Properties["PolicyDocument"])
			}
		}
	}
	for _, p := range list(s.resources[roleID].Properties["Policies"]) {
		docs = append(docs, p.(map[string]any)["PolicyDocument"])
	}
	var out []statement
	for _, d := range docs {
		for _, st := range d.(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			var a statement
			for _, x := range list(st["Action"]) {
				a.actions = append(a.actions, x.(string))
			}
			for _, x := range list(st["Resource"]) {
				a.resources = append(a.resources, flat(x))
			}
			out = append(out, a)
		}
	}
	return out
}

// wildcard reports whether an IAM pattern (* and ?) matches s.
func wildcard(pattern, s string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(s)
}

// allowed reports whether the statements allow action on resource.
func allowed(stmts []statement, action, resource string) bool {
	for _, st := range stmts {
		for _, a := range st.actions {
			if !wildcard(strings.ToLower(a), strings.ToLower(action)) {
				continue
			}
			for _, r := range st.resources {
				if wildcard(r, resource) {
					return true
				}
			}
		}
	}
	return false
}

func TestFunctionsWriteOnlyTheirPrefixes(t *testing.T) {
	def, _ := stacks(t)
	object := func(key string) string { return "${" + def.logicalID(def.stack.Bucket) + ".Arn}/" + key }
	// Who may write (s3:PutObject and s3:DeleteObject) what.
	writers := map[string][]string{
		"repo/registry/tables/datasets/dataset_type=raw/part-1.parquet": {infra.Ingest, infra.Plan, infra.Merge, infra.Compact},
		"repo/registry/_log/00000000000000000001.json":                  {infra.Ingest, infra.Plan, infra.Merge, infra.Compact},
		"repo/datastore/SPHEREx/raw/x.fits":                             {infra.Ingest, infra.Execute, infra.Merge},
		"repo/provenance/u/run/q.json":                                  {infra.Execute},
		"repo/qgraphs/g/waves/0000.json":                                {infra.Plan},
		"repo/butler.yaml":                                              nil,
		"uploads/2026-03-01/raw.fits":                                   nil,
		"athena-results/q.csv":                                          nil,
		"elsewhere/x":                                                   nil,
	}
	readers := map[string][]string{
		"uploads/2026-03-01/raw.fits":                  {infra.Ingest},
		"repo/registry/_log/_last_checkpoint":          {infra.Ingest, infra.Plan, infra.Merge, infra.Compact},
		"repo/butler.yaml":                             {infra.Ingest, infra.Plan, infra.Merge, infra.Compact},
		"repo/qgraphs/g/batches/w0-a.json":             {infra.Ingest, infra.Plan, infra.Merge, infra.Compact, infra.Execute},
		"repo/datastore/SPHEREx/raw/x.fits":            {infra.Ingest, infra.Plan, infra.Merge, infra.Compact, infra.Execute},
		"athena-results/q.csv":                         nil,
		"repo/registry/tables/files/part-1.parquet":    {infra.Ingest, infra.Plan, infra.Merge, infra.Compact},
		"repo/provenance/u/run/q.json":                 {infra.Ingest, infra.Plan, infra.Merge, infra.Compact, infra.Execute},
		"repo/qgraphs/g/waves/0000.json":               {infra.Ingest, infra.Plan, infra.Merge, infra.Compact, infra.Execute},
		"repo/registry/tables/txn/part-2.parquet":      {infra.Ingest, infra.Plan, infra.Merge, infra.Compact},
		"repo/registry/_log/00000000000000000002.json": {infra.Ingest, infra.Plan, infra.Merge, infra.Compact},
	}
	in := func(names []string, n string) bool {
		for _, x := range names {
			if x == n {
				return true
			}
		}
		return false
	}
	for _, name := range infra.Functions {
		stmts := grants(def, def.stack.Functions[name].Role())
		for key, who := range writers {
			for _, action := range []string{"s3:PutObject", "s3:DeleteObject"} {
				if got, want := allowed(stmts, action, object(key)), in(who, name); got != want {
					t.Errorf("%s: %s on %s allowed=%v, want %v", name, action, key, got, want)
				}
			}
		}
		for key, who := range readers {
			if got, want := allowed(stmts, "s3:GetObject", object(key)), in(who, name); got != want {
				t.Errorf("%s: s3:GetObject on %s allowed=%v, want %v", name, key, got, want)
			}
		}
		for _, a := range []string{"s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketNotification", "s3:PutLifecycleConfiguration"} {
			if allowed(stmts, a, "${"+def.logicalID(def.stack.Bucket)+".Arn}") {
				t.Errorf("%s may %s", name, a)
			}
		}
		if !allowed(stmts, "s3:ListBucket", "${"+def.logicalID(def.stack.Bucket)+".Arn}") {
			t.Errorf("%s may not list the bucket (missing keys would answer 403, not 404)", name)
		}
	}
	// The execute function never writes the registry, in any spelling.
	stmts := grants(def, def.stack.Functions[infra.Execute].Role())
	for _, st := range stmts {
		for _, a := range st.actions {
			if !strings.HasPrefix(a, "s3:") {
				continue
			}
			for _, r := range st.resources {
				if a != "s3:GetObject" && a != "s3:ListBucket" && wildcard(r, object("repo/registry/x")) {
					t.Errorf("execute: %s on %s", a, r)
				}
			}
		}
	}
	// The state machine reads wave manifests and nothing else of the bucket.
	sm := grants(def, def.stack.StateMachine.Role())
	for key, want := range map[string]bool{
		"repo/qgraphs/g/waves/0000.json":      true,
		"repo/qgraphs/g/batches/w0-a.json":    false,
		"repo/registry/_log/_last_checkpoint": false,
		"uploads/x.fits":                      false,
	} {
		if got := allowed(sm, "s3:GetObject", object(key)); got != want {
			t.Errorf("state machine: s3:GetObject on %s allowed=%v, want %v", key, got, want)
		}
		if allowed(sm, "s3:PutObject", object(key)) {
			t.Errorf("state machine may write %s", key)
		}
	}
	for _, name := range []string{infra.Plan, infra.Execute, infra.Merge} {
		arn := "${" + def.logicalID(def.stack.Functions[name]) + ".Arn}"
		if !allowed(sm, "lambda:InvokeFunction", arn) {
			t.Errorf("the state machine may not invoke %s", name)
		}
	}
	for _, name := range []string{infra.Ingest, infra.Compact} {
		if allowed(sm, "lambda:InvokeFunction", "${"+def.logicalID(def.stack.Functions[name])+".Arn}") {
			t.Errorf("the state machine may invoke %s", name)
		}
	}
}
