// Command plan is the plan Lambda function (binary "bootstrap",
// provided.al2023): it plans a pipeline over the repository named by
// SKYBUTLER_REPO, saves the quantum graph and registers its outputs, and
// returns where the graph's waves are (lib/qgraph.HandlePlan; payloads in
// events/plan-request.json and events/plan-response.json). Pipelines are
// read from the repository, from a URI, inline, or, for "examples/NAME",
// from the example pipelines built in.
package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/skybutler/skybutler/examples/pipelines"
	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/pipeline"
	"github.com/skybutler/skybutler/lib/qgraph"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(log)
	if err := pipelines.Register(); err != nil {
		log.Error("register example tasks", "err", err)
		os.Exit(1)
	}
	repo := os.Getenv("SKYBUTLER_REPO")
	b, err := butler.Open(context.Background(), repo, log)
	if err != nil {
		log.Error("open repository", "repo", repo, "err", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, req qgraph.PlanRequest) (*qgraph.PlanResponse, error) {
		return qgraph.HandlePlan(ctx, b, req, loadPipeline)
	})
}

// loadPipeline adds the built-in example pipelines ("examples/spherex.yaml")
// to what qgraph.LoadPipeline reads.
func loadPipeline(ctx context.Context, b *butler.Butler, ref, inline string) (*pipeline.Pipeline, error) {
	if name, ok := strings.CutPrefix(ref, "examples/"); ok && inline == "" {
		return pipeline.LoadFS(pipelines.Files, name)
	}
	return qgraph.LoadPipeline(ctx, b, ref, inline)
}
