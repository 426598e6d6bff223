// Package infra is skybutler's AWS CDK app (Go): one stack holding the data
// bucket, the upload queue and its dead-letter queue, the five Lambda
// functions (ingest, plan, execute, merge, compact), the run state machine
// (Plan -> waves one at a time -> Distributed Map of Execute -> Merge), the
// hourly compaction schedule, and the Glue database, Glue tables and Athena
// workgroup that query the registry. The command in cmd/skybutler-infra
// synthesizes it (cdk.json at the repository root runs it); the tests here
// check the synthesized template offline.
package infra

import (
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Function names: one folder each under functions/ and dist/functions/.
const (
	Ingest  = "ingest"
	Plan    = "plan"
	Execute = "execute"
	Merge   = "merge"
	Compact = "compact"
)

// Functions lists the Lambda functions in a fixed order.
var Functions = []string{Ingest, Plan, Execute, Merge, Compact}

// Object prefixes in the data bucket.
const (
	RepoPrefix          = "repo"            // the repository root: s3://BUCKET/repo
	UploadsPrefix       = "uploads/"        // raw uploads, ingested on arrival
	AthenaResultsPrefix = "athena-results/" // the Athena workgroup's query results
)

// StackProps configures a skybutler stack. The zero value of every field
// takes the default written beside it.
type StackProps struct {
	awscdk.StackProps

	// FunctionsDir holds one directory per function, each with the
	// linux/arm64 executable "bootstrap" (make functions builds them into
	// dist/functions). Default "dist/functions".
	FunctionsDir string
	// BucketNamePrefix, when set, names the data bucket
	// PREFIX-ACCOUNT-REGION; empty lets CloudFormation name it.
	BucketNamePrefix string
	// NoncurrentVersionDays: noncurrent object versions expire after this
	// many days (default 30).
	NoncurrentVersionDays int
	// AthenaResultsDays: Athena query results expire after this many days
	// (default 30).
	AthenaResultsDays int

	// MapMaxConcurrency bounds the concurrent child executions (Execute
	// invocations) of one wave's Distributed Map (default 100).
	MapMaxConcurrency int
	// ToleratedFailurePercentage of one wave's batches may fail without
	// failing the wave (default 0; the failure path merges what succeeded
	// either way).
	ToleratedFailurePercentage float64
	// ExecuteItemsPerBatch > 0 adds an ItemBatcher: each Execute call then
	// receives up to this many wave-manifest items under "Items". Default 0:
	// one item (one batch of quanta) per call.
	ExecuteItemsPerBatch int

	// IngestMaxConcurrency bounds the concurrent ingest invocations the
	// queue drives (default 5; minimum 2). Ingests commit to one registry
	// log, so more mostly means more retried commits.
	IngestMaxConcurrency int
	// IngestBatchSize is the SQS batch size (default 10).
	IngestBatchSize int
	// MaxReceiveCount: a message delivered this many times without
	// success moves to the dead-letter queue (default 5).
	MaxReceiveCount int
	// CompactEveryHours: the compact function runs this often (default 1).
	CompactEveryHours int

	// GlueDatabase names the Glue database of the registry tables
	// (default "skybutler"); AthenaWorkGroup names the workgroup (default
	// "skybutler").
	GlueDatabase    string
	AthenaWorkGroup string
	// LogRetentionDays of the functions' and the state machine's logs
	// (default 30).
	LogRetentionDays int
}

func (p *StackProps) withDefaults() StackProps {
	q := *p
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if q.FunctionsDir == "" {
		q.FunctionsDir = filepath.Join("dist", "functions")
	}
	def(&q.NoncurrentVersionDays, 30)
	def(&q.AthenaResultsDays, 30)
	def(&q.MapMaxConcurrency, 100)
	def(&q.IngestMaxConcurrency, 5)
	q.IngestMaxConcurrency = max(q.IngestMaxConcurrency, 2)
	def(&q.IngestBatchSize, 10)
	def(&q.MaxReceiveCount, 5)
	def(&q.CompactEveryHours, 1)
	def(&q.LogRetentionDays, 30)
	if q.ToleratedFailurePercentage < 0 {
		q.ToleratedFailurePercentage = 0
	}
	if q.GlueDatabase == "" {
		q.GlueDatabase = "skybutler"
	}
	if q.AthenaWorkGroup == "" {
		q.AthenaWorkGroup = "skybutler"
	}
	return q
}

// MissingBootstraps lists the functions whose dir/NAME/bootstrap does not
// exist.
func MissingBootstraps(dir string) []string {
	var out []string
	for _, f := range Functions {
		if _, err := os.Stat(filepath.Join(dir, f, "bootstrap")); err != nil {
			out = append(out, f)
		}
	}
	return out
}

// QuietNode silences the jsii runtime's warnings about the Node.js release
// (Node 20 is past its end of life for jsii, and still works). Call it
// before the first CDK call. The jsii client is created, with the
// environment of that moment, when the CDK packages are initialised; so
// when QuietNode changes the environment it closes that client (its Node
// process has not started yet) and the next CDK call starts a fresh one.
// Variables already set are kept.
func QuietNode() {
	changed := false
	for k, v := range map[string]string{
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION":  "1",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20",
		"JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION":    "1",
	} {
		if _, ok := os.LookupEnv(k); !ok {
			os.Setenv(k, v)
			changed = true
		}
	}
	if changed {
		jsii.Close()
	}
}
