//go:build !skybutler_lambda

package objstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// loadAWSConfig reads the standard AWS configuration: environment, shared
// config and credentials files, SSO, IMDS... (everything the CLI may need).
func loadAWSConfig(ctx context.Context, region, accessKey, secretKey string) (aws.Config, error) {
	var load []func(*config.LoadOptions) error
	if region != "" {
		load = append(load, config.WithRegion(region))
	}
	if accessKey != "" {
		load = append(load, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")))
	}
	return config.LoadDefaultConfig(ctx, load...)
}
