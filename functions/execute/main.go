// Command execute is the batch-execution Lambda function (binary
// "bootstrap", provided.al2023): it runs the batches named by a Distributed
// Map item (or an ItemBatcher's Items) of a graph planned in the repository
// SKYBUTLER_REPO, with quantum-backed butlers and no registry access.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/skybutler/skybutler/examples/pipelines"
	"github.com/skybutler/skybutler/lib/execute"
	"github.com/skybutler/skybutler/lib/objstore"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(log)
	pipelines.Register()
	repo := os.Getenv("SKYBUTLER_REPO")
	store, err := objstore.Open(context.Background(), repo)
	if err != nil {
		log.Error("open repository", "repo", repo, "err", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, body json.RawMessage) (*execute.ExecuteResult, error) {
		opts := execute.Options{Logger: log}
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			opts.LambdaRequestID = lc.AwsRequestID
			opts.Host = lambdacontext.FunctionName
		}
		return execute.HandleExecute(ctx, store, body, opts)
	})
}
