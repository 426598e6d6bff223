package infra

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	sfn "github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/jsii-runtime-go"
)

// State names of the run state machine.
const (
	StatePlan              = "Plan"
	StateWaves             = "Waves"
	StateRunWave           = "RunWave"
	StateExecute           = "Execute"
	StateMerge             = "Merge"
	StateMergeAfterFailure = "MergeAfterFailure"
	StateCheckRun          = "RunComplete?"
	StateRunIncomplete     = "RunIncomplete"
	StateWavesFailed       = "WavesFailed"
	StateSucceeded         = "Succeeded"
)

// LambdaServiceErrors are the transient Lambda errors every task retries
// with backoff.
var LambdaServiceErrors = []string{
	"Lambda.ServiceException",
	"Lambda.AWSLambdaException",
	"Lambda.SdkClientException",
	"Lambda.TooManyRequestsException",
	"Lambda.ClientExecutionTimeoutException",
}

// newStateMachine defines the run state machine. Its input is a plan
// request (lib/qgraph.PlanRequest, events/statemachine-start.json):
//
//	Plan                 plan function; $.plan = graph_id, output_run, quanta, batches, waves
//	Waves                Map over $.plan.waves, one wave at a time; item {graph_id, wave}
//	  RunWave            Distributed Map; ItemReader = the wave manifest
//	                     s3://BUCKET/repo/qgraphs/GRAPH/waves/NNNN.json ($.wave.object_key)
//	    Execute          execute function, one manifest item (qgraph.BatchItem) or Items
//	Merge                merge function {graph_id}; $.merge = its summary
//	RunComplete?         fails the execution when quanta failed, were blocked or never ran
//
// A wave that fails (beyond ToleratedFailurePercentage) is caught on the
// Waves map: MergeAfterFailure still merges what succeeded, then the
// execution fails with the wave's error.
func (s *Stack) newStateMachine() sfn.StateMachine {
	p := s.Props
	retry := func(t awsstepfunctionstasks.LambdaInvoke) {
		t.AddRetry(&sfn.RetryProps{
			Errors:         jsii.Strings(LambdaServiceErrors...),
			Interval:       awscdk.Duration_Seconds(jsii.Number(2)),
			MaxAttempts:    jsii.Number(6),
			BackoffRate:    jsii.Number(2),
			MaxDelay:       awscdk.Duration_Minutes(jsii.Number(1)),
			JitterStrategy: sfn.JitterType_FULL,
		})
	}
	invoke := func(id string, fn awslambda.IFunction, props awsstepfunctionstasks.LambdaInvokeProps) awsstepfunctionstasks.LambdaInvoke {
		props.StateName = jsii.String(id)
		props.LambdaFunction = fn
		props.RetryOnServiceExceptions = jsii.Bool(false) // our own Retry below
		t := awsstepfunctionstasks.NewLambdaInvoke(s.Stack, jsii.String(id+"Task"), &props)
		retry(t)
		return t
	}

	plan := invoke(StatePlan, s.Functions[Plan], awsstepfunctionstasks.LambdaInvokeProps{
		Comment: jsii.String("plan the pipeline: quantum graph, wave manifests and batches in the repository"),
		Payload: sfn.TaskInput_FromJsonPathAt(jsii.String("$")),
		ResultSelector: &map[string]any{
			"graph_id":   sfn.JsonPath_StringAt(jsii.String("$.Payload.graph_id")),
			"output_run": sfn.JsonPath_StringAt(jsii.String("$.Payload.output_run")),
			"quanta":     sfn.JsonPath_NumberAt(jsii.String("$.Payload.quanta")),
			"batches":    sfn.JsonPath_NumberAt(jsii.String("$.Payload.batches")),
			"waves":      sfn.JsonPath_ObjectAt(jsii.String("$.Payload.waves")),
		},
		ResultPath: jsii.String("$.plan"),
	})

	execute := invoke(StateExecute, s.Functions[Execute], awsstepfunctionstasks.LambdaInvokeProps{
		Comment: jsii.String("run the quanta of one wave manifest item (lib/qgraph.BatchItem), or of Items with an ItemBatcher"),
		Payload: sfn.TaskInput_FromJsonPathAt(jsii.String("$")),
		// A wave's Distributed Map gathers every child's output into one
		// result (256 KiB at most): keep each to two counts. The whole
		// answer is in the child execution's history and the logs.
		ResultSelector: &map[string]any{
			"quanta": sfn.JsonPath_NumberAt(jsii.String("$.Payload.quanta")),
			"failed": sfn.JsonPath_NumberAt(jsii.String("$.Payload.failed")),
		},
	})
	// An execute error means a batch could not be run or recorded (failed
	// quanta are results, not errors): worth another try.
	execute.AddRetry(&sfn.RetryProps{
		Errors:      jsii.Strings("States.TaskFailed"),
		Interval:    awscdk.Duration_Seconds(jsii.Number(10)),
		MaxAttempts: jsii.Number(2),
		BackoffRate: jsii.Number(2),
	})

	dmProps := &sfn.DistributedMapProps{
		StateName:                  jsii.String(StateRunWave),
		Comment:                    jsii.String("fan Execute out over the batches listed in this wave's manifest"),
		ItemReader:                 newWaveManifestReader(s.Bucket, *sfn.JsonPath_StringAt(jsii.String("$.wave.object_key"))),
		MaxConcurrency:             jsii.Number(float64(p.MapMaxConcurrency)),
		ToleratedFailurePercentage: jsii.Number(p.ToleratedFailurePercentage),
		MapExecutionType:           sfn.StateMachineType_STANDARD,
		ResultPath:                 sfn.JsonPath_DISCARD(),
		Label:                      jsii.String("Execute"),
	}
	if p.ExecuteItemsPerBatch > 0 {
		dmProps.ItemBatcher = sfn.NewItemBatcher(&sfn.ItemBatcherProps{
			MaxItemsPerBatch: jsii.Number(float64(p.ExecuteItemsPerBatch)),
			// CDK writes BatchInput as given (no JsonPath rendering): spell
			// the ".$" key out.
			BatchInput: &map[string]any{"graph_id.$": "$.graph_id"},
		})
	}
	runWave := sfn.NewDistributedMap(s.Stack, jsii.String(StateRunWave+"Map"), dmProps)
	runWave.ItemProcessor(execute, nil)

	waves := sfn.NewMap(s.Stack, jsii.String(StateWaves+"Map"), &sfn.MapProps{
		StateName: jsii.String(StateWaves),
		Comment:   jsii.String("the waves of the graph, in order, one at a time"),
		ItemsPath: jsii.String("$.plan.waves"),
		ItemSelector: &map[string]any{
			"graph_id": sfn.JsonPath_StringAt(jsii.String("$.plan.graph_id")),
			"wave":     sfn.JsonPath_StringAt(jsii.String("$$.Map.Item.Value")),
		},
		MaxConcurrency: jsii.Number(1),
		ResultPath:     sfn.JsonPath_DISCARD(),
	})
	waves.ItemProcessor(runWave, &sfn.ProcessorConfig{Mode: sfn.ProcessorMode_INLINE})

	mergeProps := func(comment string) awsstepfunctionstasks.LambdaInvokeProps {
		return awsstepfunctionstasks.LambdaInvokeProps{
			Comment: jsii.String(comment),
			Payload: sfn.TaskInput_FromObject(&map[string]any{
				"graph_id": sfn.JsonPath_StringAt(jsii.String("$.plan.graph_id")),
			}),
			ResultSelector: &map[string]any{
				"graph_id":      sfn.JsonPath_StringAt(jsii.String("$.Payload.graph_id")),
				"run":           sfn.JsonPath_StringAt(jsii.String("$.Payload.run")),
				"documents":     sfn.JsonPath_NumberAt(jsii.String("$.Payload.documents")),
				"quanta_merged": sfn.JsonPath_NumberAt(jsii.String("$.Payload.quanta_merged")),
				"statuses":      sfn.JsonPath_ObjectAt(jsii.String("$.Payload.statuses")),
			},
			ResultPath: jsii.String("$.merge"),
		}
	}
	merge := invoke(StateMerge, s.Functions[Merge], mergeProps("commit the graph's outputs and provenance to the registry"))
	mergeAfterFailure := invoke(StateMergeAfterFailure, s.Functions[Merge],
		mergeProps("a wave failed: still commit what succeeded, then fail"))
	wavesFailed := sfn.NewFail(s.Stack, jsii.String(StateWavesFailed+"State"), &sfn.FailProps{
		StateName: jsii.String(StateWavesFailed),
		Comment:   jsii.String("a wave failed; what succeeded is merged"),
		ErrorPath: jsii.String("$.error.Error"),
		CausePath: jsii.String("$.error.Cause"),
	})
	waves.AddCatch(mergeAfterFailure.Next(wavesFailed), &sfn.CatchProps{
		Errors:     jsii.Strings(*sfn.Errors_ALL()),
		ResultPath: jsii.String("$.error"),
	})

	positive := func(path string) sfn.Condition {
		return sfn.Condition_And(sfn.Condition_IsPresent(jsii.String(path)), sfn.Condition_NumberGreaterThan(jsii.String(path), jsii.Number(0)))
	}
	check := sfn.NewChoice(s.Stack, jsii.String("CheckRunChoice"), &sfn.ChoiceProps{StateName: jsii.String(StateCheckRun)}).
		When(sfn.Condition_Or(
			positive("$.merge.statuses.failed"),
			positive("$.merge.statuses.blocked"),
			sfn.Condition_NumberLessThanJsonPath(jsii.String("$.merge.documents"), jsii.String("$.plan.quanta")),
		), sfn.NewFail(s.Stack, jsii.String(StateRunIncomplete+"State"), &sfn.FailProps{
			StateName: jsii.String(StateRunIncomplete),
			Error:     jsii.String("skybutler.RunIncomplete"),
			Cause:     jsii.String("quanta failed, were blocked or did not run; what succeeded is merged (see $.merge)"),
		}), nil).
		Otherwise(sfn.NewSucceed(s.Stack, jsii.String(StateSucceeded+"State"), &sfn.SucceedProps{StateName: jsii.String(StateSucceeded)}))

	logs := awslogs.NewLogGroup(s.Stack, jsii.String("RunStateMachineLogs"), &awslogs.LogGroupProps{
		// the /aws/vendedlogs/ prefix keeps the log delivery resource policy small
		LogGroupName:  jsii.String("/aws/vendedlogs/states/skybutler-" + *s.StackName()),
		Retention:     retention(p.LogRetentionDays),
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	return sfn.NewStateMachine(s.Stack, jsii.String("RunStateMachine"), &sfn.StateMachineProps{
		Comment:          jsii.String("skybutler pipeline run: Plan -> waves (Distributed Map of Execute) -> Merge"),
		StateMachineType: sfn.StateMachineType_STANDARD,
		DefinitionBody:   sfn.DefinitionBody_FromChainable(plan.Next(waves).Next(merge).Next(check)),
		Timeout:          awscdk.Duration_Hours(jsii.Number(48)),
		Logs: &sfn.LogOptions{
			Destination:          logs,
			Level:                sfn.LogLevel_ERROR,
			IncludeExecutionData: jsii.Bool(false),
		},
	})
}
