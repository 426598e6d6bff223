package infra

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/jsii-runtime-go"

	"github.com/skybutler/skybutler/lib/dimensions"
	"github.com/skybutler/skybutler/lib/registry"
)

// RegistryTables are the registry's tables in a repository created with
// the default dimension universe: the fixed tables and one dimension_
// table per element. Each gets a Glue table (table_type=DELTA) over
// s3://BUCKET/repo/registry/tables/NAME/.
func RegistryTables() []string {
	out := []string{
		registry.TableCollections, registry.TableCollectionChains, registry.TableDatasetTypes,
		registry.TableDatasets, registry.TableFiles, registry.TableTags, registry.TableCalibs,
		registry.TableQuanta, registry.TableQuantumInputs, registry.TableQuantumOutputs, registry.TableTxn,
	}
	for _, e := range dimensions.Default().Names() {
		out = append(out, registry.DimensionTablePrefix+e)
	}
	return out
}

func (s *Stack) newCatalog() {
	p := s.Props
	db := awsglue.NewCfnDatabase(s.Stack, jsii.String("GlueDatabase"), &awsglue.CfnDatabaseProps{
		CatalogId: s.Account(),
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(p.GlueDatabase),
			Description: jsii.String("skybutler registry tables (Delta Lake logs published from the registry commit log)"),
		},
	})
	bucket := *s.Bucket.BucketName()
	for _, name := range RegistryTables() {
		t := awsglue.NewCfnTable(s.Stack, jsii.String("GlueTable"+camel(name)), &awsglue.CfnTableProps{
			CatalogId:    s.Account(),
			DatabaseName: jsii.String(p.GlueDatabase),
			TableInput: &awsglue.CfnTable_TableInputProperty{
				Name:        jsii.String(name),
				Description: jsii.String("skybutler registry table " + name),
				TableType:   jsii.String("EXTERNAL_TABLE"),
				Parameters: map[string]string{
					"table_type":     "DELTA",
					"classification": "delta",
					"EXTERNAL":       "TRUE",
				},
				// No columns: Athena reads a Delta table's schema from its log.
				StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
					Location: jsii.String("s3://" + bucket + "/" + RepoPrefix + "/registry/tables/" + name + "/"),
				},
			},
		})
		t.AddDependency(db)
	}
	awsathena.NewCfnWorkGroup(s.Stack, jsii.String("AthenaWorkGroup"), &awsathena.CfnWorkGroupProps{
		Name:                  jsii.String(p.AthenaWorkGroup),
		Description:           jsii.String("skybutler registry queries"),
		State:                 jsii.String("ENABLED"),
		RecursiveDeleteOption: jsii.Bool(true),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			EngineVersion: &awsathena.CfnWorkGroup_EngineVersionProperty{
				SelectedEngineVersion: jsii.String("Athena engine version 3"),
			},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + bucket + "/" + AthenaResultsPrefix),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_S3"),
				},
			},
		},
	})
}

// camel turns "quantum_inputs" into "QuantumInputs" (construct IDs).
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
