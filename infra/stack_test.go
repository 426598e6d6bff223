package infra_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/skybutler/skybutler/infra"
)

func TestSynthesisTime(t *testing.T) {
	stacks(t)
	t.Logf("synthesized 2 stacks in %v", synthTime)
}

func TestDataBucketIsPrivateEncryptedVersionedAndTLSOnly(t *testing.T) {
	def, custom := stacks(t)
	for _, c := range []struct {
		s          *synthesized
		days       float64
		namePrefix string
	}{{def, 30, ""}, {custom, 7, "sky-test-"}} {
		buckets := c.s.ofType("AWS::S3::Bucket")
		if len(buckets) != 1 {
			t.Fatalf("%d buckets, want 1", len(buckets))
		}
		id := c.s.logicalID(c.s.stack.Bucket)
		b := buckets[id].Properties
		enc := b["BucketEncryption"].(map[string]any)["ServerSideEncryptionConfiguration"].([]any)[0].(map[string]any)
		if alg := enc["ServerSideEncryptionByDefault"].(map[string]any)["SSEAlgorithm"]; alg != "AES256" {
			t.Errorf("encryption %v, want S3-managed (AES256)", alg)
		}
		if v := b["VersioningConfiguration"].(map[string]any)["Status"]; v != "Enabled" {
			t.Errorf("versioning %v", v)
		}
		pab := b["PublicAccessBlockConfiguration"].(map[string]any)
		for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
			if pab[k] != true {
				t.Errorf("PublicAccessBlockConfiguration.%s = %v", k, pab[k])
			}
		}
		var noncurrent float64
		for _, r := range b["LifecycleConfiguration"].(map[string]any)["Rules"].([]any) {
			r := r.(map[string]any)
			if e, ok := r["NoncurrentVersionExpiration"].(map[string]any); ok && r["Status"] == "Enabled" && r["Prefix"] == nil {
				noncurrent = e["NoncurrentDays"].(float64)
			}
		}
		if noncurrent != c.days {
			t.Errorf("noncurrent versions expire after %v days, want %v", noncurrent, c.days)
		}
		if _, ok := b["NotificationConfiguration"]; ok {
			t.Errorf("notifications on the bucket resource itself: %v", b["NotificationConfiguration"])
		}
		name := flat(b["BucketName"])
		if c.namePrefix == "" && b["BucketName"] != nil || c.namePrefix != "" && !strings.HasPrefix(name, c.namePrefix) {
			t.Errorf("bucket name %q, want prefix %q", name, c.namePrefix)
		}
		// enforceSSL: a bucket policy denying every request without TLS.
		found := false
		for _, p := range c.s.ofType("AWS::S3::BucketPolicy") {
			if flat(p.Properties["Bucket"]) != "${Ref:"+id+"}" {
				continue
			}
			for _, st := range p.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				cond, _ := st["Condition"].(map[string]any)
				if st["Effect"] == "Deny" && st["Action"] == "s3:*" && cond != nil &&
					reflect.DeepEqual(cond["Bool"], map[string]any{"aws:SecureTransport": "false"}) {
					found = true
				}
			}
		}
		if !found {
			t.Error("no bucket policy denying requests without TLS")
		}
	}
}

func TestUploadsQueueWithDeadLettersGetsObjectCreatedUnderUploads(t *testing.T) {
	def, custom := stacks(t)
	for _, c := range []struct {
		s          *synthesized
		maxReceive float64
	}{{def, 5}, {custom, 4}} {
		s := c.s
		qid, dlqID := s.logicalID(s.stack.Queue), s.logicalID(s.stack.DeadLetters)
		queues := s.ofType("AWS::SQS::Queue")
		if len(queues) != 2 {
			t.Fatalf("%d queues, want 2", len(queues))
		}
		q := queues[qid].Properties
		redrive := q["RedrivePolicy"].(map[string]any)
		if redrive["maxReceiveCount"] != c.maxReceive || flat(redrive["deadLetterTargetArn"]) != "${"+dlqID+".Arn}" {
			t.Errorf("redrive policy %v", redrive)
		}
		if _, ok := queues[dlqID].Properties["RedrivePolicy"]; ok {
			t.Error("the dead-letter queue has a redrive policy")
		}
		ingest := s.ofType("AWS::Lambda::Function")[s.logicalID(s.stack.Functions[infra.Ingest])].Properties
		if vis := q["VisibilityTimeout"].(float64); vis < 6*ingest["Timeout"].(float64) {
			t.Errorf("visibility timeout %v < 6 x the ingest timeout %v", vis, ingest["Timeout"])
		}

		notes := s.ofType("Custom::S3BucketNotifications")
		if len(notes) != 1 {
			t.Fatalf("%d bucket notification resources, want 1", len(notes))
		}
		for _, n := range notes {
			if flat(n.Properties["BucketName"]) != "${Ref:"+s.logicalID(s.stack.Bucket)+"}" {
				t.Errorf("notifications of bucket %v", n.Properties["BucketName"])
			}
			cfg := n.Properties["NotificationConfiguration"].(map[string]any)
			qc := cfg["QueueConfigurations"].([]any)
			if len(qc) != 1 || len(cfg) != 1 {
				t.Fatalf("notification configuration %v, want one queue configuration", cfg)
			}
			c := qc[0].(map[string]any)
			if !reflect.DeepEqual(c["Events"], []any{"s3:ObjectCreated:*"}) || flat(c["QueueArn"]) != "${"+qid+".Arn}" {
				t.Errorf("queue configuration %v", c)
			}
			want := map[string]any{"Key": map[string]any{"FilterRules": []any{map[string]any{"Name": "prefix", "Value": "uploads/"}}}}
			if !reflect.DeepEqual(c["Filter"], want) {
				t.Errorf("filter %v, want prefix uploads/", c["Filter"])
			}
		}
		// S3 may send to the queue (only from this bucket).
		allowed := false
		for _, p := range s.ofType("AWS::SQS::QueuePolicy") {
			for _, st := range p.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				pr, _ := st["Principal"].(map[string]any)
				if st["Effect"] == "Allow" && pr["Service"] == "s3.amazonaws.com" && slices.Contains(list(st["Action"]), any("sqs:SendMessage")) &&
					strings.Contains(flat(st["Condition"].(map[string]any)["ArnLike"].(map[string]any)["aws:SourceArn"]), s.logicalID(s.stack.Bucket)) {
					allowed = true
				}
			}
		}
		if !allowed {
			t.Error("no queue policy lets S3 send this bucket's events")
		}
	}
}

func TestFunctions(t *testing.T) {
	def, _ := stacks(t)
	fns := def.ofType("AWS::Lambda::Function")
	ours := map[string]bool{}
	codes := map[string]bool{}
	for _, name := range infra.Functions {
		id := def.logicalID(def.stack.Functions[name])
		f, ok := fns[id]
		if !ok {
			t.Fatalf("no function %s (%s)", name, id)
		}
		ours[id] = true
		p := f.Properties
		if p["Runtime"] != "provided.al2023" || !reflect.DeepEqual(p["Architectures"], []any{"arm64"}) || p["Handler"] != "bootstrap" {
			t.Errorf("%s: runtime %v, architectures %v, handler %v", name, p["Runtime"], p["Architectures"], p["Handler"])
		}
		env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		if got, want := flat(env["SKYBUTLER_REPO"]), "s3://${Ref:"+def.logicalID(def.stack.Bucket)+"}/repo"; got != want {
			t.Errorf("%s: SKYBUTLER_REPO %s, want %s", name, got, want)
		}
		if name == infra.Ingest && (env["SKYBUTLER_UPLOAD_PREFIX"] != "uploads/" || env["SKYBUTLER_TRANSFER"] != "copy") {
			t.Errorf("ingest environment %v", env)
		}
		mem, timeout := p["MemorySize"].(float64), p["Timeout"].(float64)
		if mem < 512 || mem > 10240 || timeout < 60 || timeout > 900 {
			t.Errorf("%s: memory %v MB, timeout %v s", name, mem, timeout)
		}
		code := flat(p["Code"].(map[string]any)["S3Key"])
		if codes[code] {
			t.Errorf("%s: same code asset as another function (%s)", name, code)
		}
		codes[code] = true
		lg := flat(p["LoggingConfig"].(map[string]any)["LogGroup"])
		groups := def.ofType("AWS::Logs::LogGroup")
		gid, _ := strings.CutPrefix(strings.TrimSuffix(lg, "}"), "${Ref:")
		if g, ok := groups[gid]; !ok || g.Properties["LogGroupName"] != infra.LogGroupName("SkybutlerTest", name) {
			t.Errorf("%s: log group %s %v, want one of its own named %s", name, lg, g.Properties, infra.LogGroupName("SkybutlerTest", name))
		}
	}
	// The only other function is CDK's bucket-notifications handler.
	for id := range fns {
		if !ours[id] && !strings.HasPrefix(id, "BucketNotificationsHandler") {
			t.Errorf("unexpected function %s", id)
		}
	}
}

func TestIngestReadsTheQueueReportingPartialBatchFailures(t *testing.T) {
	def, custom := stacks(t)
	for _, c := range []struct {
		s           *synthesized
		concurrency float64
	}{{def, 5}, {custom, 3}} {
		s := c.s
		maps := s.ofType("AWS::Lambda::EventSourceMapping")
		if len(maps) != 1 {
			t.Fatalf("%d event source mappings, want 1", len(maps))
		}
		for _, m := range maps {
			p := m.Properties
			if flat(p["FunctionName"]) != "${Ref:"+s.logicalID(s.stack.Functions[infra.Ingest])+"}" ||
				flat(p["EventSourceArn"]) != "${"+s.logicalID(s.stack.Queue)+".Arn}" {
				t.Errorf("event source mapping %v", p)
			}
			if !reflect.DeepEqual(p["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}) {
				t.Errorf("FunctionResponseTypes %v", p["FunctionResponseTypes"])
			}
			if got := p["ScalingConfig"].(map[string]any)["MaximumConcurrency"]; got != c.concurrency {
				t.Errorf("maximum concurrency %v, want %v", got, c.concurrency)
			}
		}
	}
	has(t, func() {
		def.tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), &map[string]any{
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
			"BatchSize":             10,
		})
	})
}

func TestCompactRunsOnASchedule(t *testing.T) {
	def, custom := stacks(t)
	for _, c := range []struct {
		s    *synthesized
		rate string
	}{{def, "rate(1 hour)"}, {custom, "rate(6 hours)"}} {
		rules := c.s.ofType("AWS::Events::Rule")
		if len(rules) != 1 {
			t.Fatalf("%d rules, want 1", len(rules))
		}
		for _, r := range rules {
			targets := r.Properties["Targets"].([]any)
			if r.Properties["ScheduleExpression"] != c.rate || len(targets) != 1 ||
				flat(targets[0].(map[string]any)["Arn"]) != "${"+c.s.logicalID(c.s.stack.Functions[infra.Compact])+".Arn}" {
				t.Errorf("rule %v", r.Properties)
			}
		}
		// EventBridge may invoke compact.
		has(t, func() {
			c.s.tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), &map[string]any{
				"Principal": "events.amazonaws.com",
				"Action":    "lambda:InvokeFunction",
			})
		})
	}
}

func TestGlueTablesAndAthenaWorkGroup(t *testing.T) {
	want := []string{"collections", "collection_chains", "dataset_types", "datasets", "files", "tags", "calibs",
		"quanta", "quantum_inputs", "quantum_outputs", "txn"}
	for _, e := range []string{"instrument", "band", "physical_filter", "detector", "day_obs", "group", "exposure",
		"visit", "skymap", "tract", "patch"} {
		want = append(want, "dimension_"+e)
	}
	def, custom := stacks(t)
	for _, c := range []struct {
		s      *synthesized
		db, wg string
	}{{def, "skybutler", "skybutler"}, {custom, "sky_test", "sky-test"}} {
		s := c.s
		bucket := "${Ref:" + s.logicalID(s.stack.Bucket) + "}"
		dbs := s.ofType("AWS::Glue::Database")
		if len(dbs) != 1 {
			t.Fatalf("%d Glue databases", len(dbs))
		}
		for _, d := range dbs {
			if d.Properties["DatabaseInput"].(map[string]any)["Name"] != c.db {
				t.Errorf("database %v", d.Properties)
			}
		}
		var got []string
		for _, tb := range s.ofType("AWS::Glue::Table") {
			in := tb.Properties["TableInput"].(map[string]any)
			name := in["Name"].(string)
			got = append(got, name)
			if tb.Properties["DatabaseName"] != c.db || in["TableType"] != "EXTERNAL_TABLE" ||
				in["Parameters"].(map[string]any)["table_type"] != "DELTA" {
				t.Errorf("table %s: %v", name, tb.Properties)
			}
			loc := flat(in["StorageDescriptor"].(map[string]any)["Location"])
			if loc != "s3://"+bucket+"/repo/registry/tables/"+name+"/" {
				t.Errorf("table %s at %s", name, loc)
			}
		}
		sort.Strings(got)
		w := slices.Clone(want)
		sort.Strings(w)
		if !reflect.DeepEqual(got, w) {
			t.Errorf("Glue tables\n got %v\nwant %v", got, w)
		}
		wgs := s.ofType("AWS::Athena::WorkGroup")
		if len(wgs) != 1 {
			t.Fatalf("%d workgroups", len(wgs))
		}
		for _, g := range wgs {
			rc := g.Properties["WorkGroupConfiguration"].(map[string]any)["ResultConfiguration"].(map[string]any)
			if g.Properties["Name"] != c.wg || flat(rc["OutputLocation"]) != "s3://"+bucket+"/athena-results/" {
				t.Errorf("workgroup %v", g.Properties)
			}
		}
	}
	if got := infra.RegistryTables(); len(got) != len(want) {
		t.Errorf("infra.RegistryTables() = %v: the default universe or the registry tables changed; update this test and the docs", got)
	}
}

func TestOutputsNameWhatTheDocsUse(t *testing.T) {
	def, _ := stacks(t)
	for _, o := range []string{"BucketName", "RepoURI", "StateMachineArn", "UploadQueueUrl", "DeadLetterQueueUrl", "AthenaWorkGroupName", "GlueDatabaseName"} {
		has(t, func() { def.tmpl.HasOutput(jsii.String(o), &map[string]any{"Value": assertions.Match_AnyValue()}) })
	}
}
