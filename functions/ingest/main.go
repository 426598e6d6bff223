// Command ingest is the upload-ingest Lambda function (binary "bootstrap",
// provided.al2023): S3 upload events, via SQS (partial batch failures) or
// directly, are ingested into the repository named by SKYBUTLER_REPO.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/ingest"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(log)
	repo := os.Getenv("SKYBUTLER_REPO")
	b, err := butler.Open(context.Background(), repo, log)
	if err != nil {
		log.Error("open repository", "repo", repo, "err", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, body json.RawMessage) (any, error) {
		h, err := ingest.NewHandler(ctx, b) // instruments may have been registered since the last call
		if err != nil {
			return nil, err
		}
		h.Transfer = butler.Transfer(envOr("SKYBUTLER_TRANSFER", string(butler.TransferCopy)))
		h.Prefix = envOr("SKYBUTLER_UPLOAD_PREFIX", "uploads/")
		return h.HandleLambda(ctx, body)
	})
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
