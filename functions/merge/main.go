// Command merge is the merge Lambda function (binary "bootstrap",
// provided.al2023): it commits the outputs and provenance of an executed
// graph into the registry of SKYBUTLER_REPO, idempotently.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/merge"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(log)
	repo := os.Getenv("SKYBUTLER_REPO")
	lambda.Start(func(ctx context.Context, body json.RawMessage) (*merge.Result, error) {
		b, err := butler.Open(ctx, repo, log) // the registry moves between invocations
		if err != nil {
			return nil, err
		}
		return merge.HandleEvent(ctx, b, body, merge.Options{Logger: log})
	})
}
