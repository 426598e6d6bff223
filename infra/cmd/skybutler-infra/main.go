// Command skybutler-infra is the CDK app of skybutler (cdk.json runs it):
// it synthesizes the stack of package infra. Functions come from
// dist/functions/NAME/bootstrap (make functions). Settings come from CDK
// context (-c key=value or cdk.json "context"):
//
//	stackName                   stack name (default "Skybutler")
//	bucketNamePrefix            name the data bucket PREFIX-ACCOUNT-REGION
//	mapMaxConcurrency           Execute calls at once per wave (default 100)
//	toleratedFailurePercentage  batches of a wave that may fail (default 0)
//	executeItemsPerBatch        ItemBatcher size, 0 for none (default 0)
//	noncurrentVersionDays       noncurrent versions expire (default 30)
//	compactEveryHours           compaction schedule (default 1)
//	glueDatabase, athenaWorkGroup   names (default "skybutler")
//	functionsDir                where the bootstraps are (default dist/functions)
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/skybutler/skybutler/infra"
)

func main() {
	infra.QuietNode()
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	str := func(key, def string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
			return v
		}
		return def
	}
	num := func(key string) float64 {
		switch v := app.Node().TryGetContext(jsii.String(key)).(type) {
		case float64:
			return v
		case string:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				fail("context %s=%q: not a number", key, v)
			}
			return f
		}
		return 0
	}
	props := &infra.StackProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("skybutler: a serverless data butler (registry in S3, Lambda + Step Functions)"),
			Env: &awscdk.Environment{ // the account and region of the CLI's credentials
				Account: envOrNil("CDK_DEFAULT_ACCOUNT"),
				Region:  envOrNil("CDK_DEFAULT_REGION"),
			},
		},
		FunctionsDir:               str("functionsDir", "dist/functions"),
		BucketNamePrefix:           str("bucketNamePrefix", ""),
		MapMaxConcurrency:          int(num("mapMaxConcurrency")),
		ToleratedFailurePercentage: num("toleratedFailurePercentage"),
		ExecuteItemsPerBatch:       int(num("executeItemsPerBatch")),
		NoncurrentVersionDays:      int(num("noncurrentVersionDays")),
		CompactEveryHours:          int(num("compactEveryHours")),
		GlueDatabase:               str("glueDatabase", ""),
		AthenaWorkGroup:            str("athenaWorkGroup", ""),
	}
	if missing := infra.MissingBootstraps(props.FunctionsDir); len(missing) > 0 {
		fail("no bootstrap for %v under %s: run `make functions` first", missing, props.FunctionsDir)
	}
	infra.NewStack(app, str("stackName", "Skybutler"), props)
	app.Synth(nil)
}

func envOrNil(k string) *string {
	if v := os.Getenv(k); v != "" {
		return jsii.String(v)
	}
	return nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...)
	jsii.Close()
	os.Exit(1)
}
