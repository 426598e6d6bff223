package infra

import (
	"fmt"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3notifications"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Stack is a synthesized-to-be skybutler deployment and its parts.
type Stack struct {
	awscdk.Stack
	Props        StackProps // with defaults applied
	Bucket       awss3.Bucket
	Queue        awssqs.Queue // upload events, S3 -> SQS -> ingest
	DeadLetters  awssqs.Queue
	Functions    map[string]awslambda.Function // by name (Ingest, Plan, ...)
	StateMachine awsstepfunctions.StateMachine
	// RepoURI is the repository root the functions serve:
	// s3://BUCKET/repo (a token until deployment).
	RepoURI *string
}

// function settings: memory (MB), timeout, /tmp size (MB), description.
type fnSpec struct {
	memory, timeoutMin, tmpMB int
	desc                      string
}

var fnSpecs = map[string]fnSpec{
	Ingest:  {1024, 5, 1024, "skybutler ingest: S3 upload events (via SQS) -> registered raw datasets"},
	Plan:    {2048, 15, 2048, "skybutler plan: pipeline + inputs + data query -> quantum graph, waves and batches"},
	Execute: {2048, 15, 4096, "skybutler execute: runs the quanta of one Distributed Map item with quantum-backed butlers"},
	Merge:   {2048, 15, 2048, "skybutler merge: provenance and outputs of a graph -> registry, idempotently"},
	Compact: {1024, 15, 2048, "skybutler compact: rewrites small registry files and writes a checkpoint"},
}

// NewStack defines a skybutler stack in scope.
func NewStack(scope constructs.Construct, id string, props *StackProps) *Stack {
	if props == nil {
		props = &StackProps{}
	}
	p := props.withDefaults()
	stack := awscdk.NewStack(scope, jsii.String(id), &p.StackProps)
	s := &Stack{Stack: stack, Props: p, Functions: map[string]awslambda.Function{}}

	s.Bucket = s.newBucket()
	s.RepoURI = jsii.String("s3://" + *s.Bucket.BucketName() + "/" + RepoPrefix)

	for _, name := range Functions {
		s.Functions[name] = s.newFunction(name)
	}
	grantRepoAccess(s.Bucket, s.Functions)

	s.newUploadQueue()
	s.newCompactSchedule()
	s.StateMachine = s.newStateMachine()
	s.newCatalog()

	out := func(id, value, desc string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: jsii.String(value), Description: jsii.String(desc)})
	}
	out("BucketName", *s.Bucket.BucketName(), "the data bucket")
	out("RepoURI", *s.RepoURI, "the repository root (SKYBUTLER_REPO)")
	out("UploadsURI", "s3://"+*s.Bucket.BucketName()+"/"+UploadsPrefix, "upload raw files here to ingest them")
	out("StateMachineArn", *s.StateMachine.StateMachineArn(), "start pipeline runs here")
	out("UploadQueueUrl", *s.Queue.QueueUrl(), "upload events for the ingest function")
	out("DeadLetterQueueUrl", *s.DeadLetters.QueueUrl(), "upload events ingest gave up on")
	out("AthenaWorkGroupName", p.AthenaWorkGroup, "the Athena workgroup of the registry tables")
	out("GlueDatabaseName", p.GlueDatabase, "the Glue database of the registry tables")
	return s
}

func (s *Stack) newBucket() awss3.Bucket {
	p := s.Props
	var name *string
	if p.BucketNamePrefix != "" {
		name = jsii.String(p.BucketNamePrefix + "-" + *s.Account() + "-" + *s.Region())
	}
	return awss3.NewBucket(s.Stack, jsii.String("Data"), &awss3.BucketProps{
		BucketName:         name,
		BlockPublicAccess:  awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:         jsii.Bool(true),
		Encryption:         awss3.BucketEncryption_S3_MANAGED,
		Versioned:          jsii.Bool(true),
		EventBridgeEnabled: jsii.Bool(false), // upload events go to SQS
		ObjectOwnership:    awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN, // the repository outlives the stack
		LifecycleRules: &[]*awss3.LifecycleRule{
			{
				Id:                                  jsii.String("expire-noncurrent-versions"),
				NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(float64(p.NoncurrentVersionDays))),
				AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
				ExpiredObjectDeleteMarker:           jsii.Bool(true),
			},
			{
				Id:         jsii.String("expire-athena-results"),
				Prefix:     jsii.String(AthenaResultsPrefix),
				Expiration: awscdk.Duration_Days(jsii.Number(float64(p.AthenaResultsDays))),
			},
		},
	})
}

func (s *Stack) newFunction(name string) awslambda.Function {
	spec := fnSpecs[name]
	id := map[string]string{Ingest: "Ingest", Plan: "Plan", Execute: "Execute", Merge: "Merge", Compact: "Compact"}[name] + "Function"
	env := map[string]*string{"SKYBUTLER_REPO": s.RepoURI}
	if name == Ingest {
		env["SKYBUTLER_UPLOAD_PREFIX"] = jsii.String(UploadsPrefix)
		env["SKYBUTLER_TRANSFER"] = jsii.String("copy") // "move" would need s3:DeleteObject on uploads/
	}
	logs := awslogs.NewLogGroup(s.Stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(LogGroupName(*s.StackName(), name)),
		Retention:     retention(s.Props.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	return awslambda.NewFunction(s.Stack, jsii.String(id), &awslambda.FunctionProps{
		Description:          jsii.String(spec.desc),
		Runtime:              awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:         awslambda.Architecture_ARM_64(),
		Handler:              jsii.String("bootstrap"),
		Code:                 awslambda.Code_FromAsset(jsii.String(filepath.Join(s.Props.FunctionsDir, name)), nil),
		MemorySize:           jsii.Number(float64(spec.memory)),
		Timeout:              awscdk.Duration_Minutes(jsii.Number(float64(spec.timeoutMin))),
		EphemeralStorageSize: awscdk.Size_Mebibytes(jsii.Number(float64(spec.tmpMB))),
		Environment:          &env,
		LogGroup:             logs,
	})
}

// newUploadQueue: S3 ObjectCreated under uploads/ -> SQS (DLQ after
// MaxReceiveCount deliveries) -> ingest, reporting partial batch failures.
func (s *Stack) newUploadQueue() {
	p := s.Props
	s.DeadLetters = awssqs.NewQueue(s.Stack, jsii.String("UploadsDeadLetters"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
	})
	// Visibility timeout: 6x the function timeout, as AWS advises for a
	// Lambda event source.
	ingestTimeout := fnSpecs[Ingest].timeoutMin
	s.Queue = awssqs.NewQueue(s.Stack, jsii.String("Uploads"), &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Minutes(jsii.Number(float64(6 * ingestTimeout))),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           s.DeadLetters,
			MaxReceiveCount: jsii.Number(float64(p.MaxReceiveCount)),
		},
	})
	s.Bucket.AddEventNotification(awss3.EventType_OBJECT_CREATED, awss3notifications.NewSqsDestination(s.Queue),
		&awss3.NotificationKeyFilter{Prefix: jsii.String(UploadsPrefix)})
	s.Functions[Ingest].AddEventSource(awslambdaeventsources.NewSqsEventSource(s.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(float64(p.IngestBatchSize)),
		MaxConcurrency:          jsii.Number(float64(p.IngestMaxConcurrency)),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
}

func (s *Stack) newCompactSchedule() {
	awsevents.NewRule(s.Stack, jsii.String("CompactSchedule"), &awsevents.RuleProps{
		Description: jsii.String(fmt.Sprintf("run skybutler compact every %d hour(s)", s.Props.CompactEveryHours)),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Hours(jsii.Number(float64(s.Props.CompactEveryHours)))),
		Targets: &[]awsevents.IRuleTarget{
			awseventstargets.NewLambdaFunction(s.Functions[Compact], &awseventstargets.LambdaFunctionProps{
				RetryAttempts: jsii.Number(2),
			}),
		},
	})
}

// LogGroupName is the CloudWatch Logs group of a function of a stack:
// /skybutler/STACK/NAME.
func LogGroupName(stack, function string) string { return "/skybutler/" + stack + "/" + function }

// retention picks the shortest CloudWatch Logs retention of at least days.
func retention(days int) awslogs.RetentionDays {
	steps := []struct {
		days int
		r    awslogs.RetentionDays
	}{
		{1, awslogs.RetentionDays_ONE_DAY}, {3, awslogs.RetentionDays_THREE_DAYS}, {5, awslogs.RetentionDays_FIVE_DAYS},
		{7, awslogs.RetentionDays_ONE_WEEK}, {14, awslogs.RetentionDays_TWO_WEEKS}, {30, awslogs.RetentionDays_ONE_MONTH},
		{60, awslogs.RetentionDays_TWO_MONTHS}, {90, awslogs.RetentionDays_THREE_MONTHS}, {180, awslogs.RetentionDays_SIX_MONTHS},
		{365, awslogs.RetentionDays_ONE_YEAR}, {731, awslogs.RetentionDays_TWO_YEARS}, {1827, awslogs.RetentionDays_FIVE_YEARS},
		{3653, awslogs.RetentionDays_TEN_YEARS},
	}
	for _, st := range steps {
		if days <= st.days {
			return st.r
		}
	}
	return awslogs.RetentionDays_INFINITE
}
