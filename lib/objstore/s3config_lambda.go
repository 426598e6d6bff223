//go:build skybutler_lambda

package objstore

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// loadAWSConfig for the Lambda functions (built with -tags
// skybutler_lambda): Lambda puts the region, the function role's
// credentials and any endpoint override in the environment, so reading the
// environment is all that is needed — and it leaves the STS, SSO and IMDS
// clients of the full config loader out of the binary.
func loadAWSConfig(_ context.Context, region, accessKey, secretKey string) (aws.Config, error) {
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	if accessKey == "" {
		accessKey, secretKey = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	if accessKey == "" || secretKey == "" {
		return aws.Config{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(accessKey, secretKey, os.Getenv("AWS_SESSION_TOKEN"))),
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		if v := os.Getenv(k); v != "" {
			cfg.BaseEndpoint = aws.String(v)
			break
		}
	}
	return cfg, nil
}
