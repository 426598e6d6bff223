package butler

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
)

// ConfigKey is the object key of the repository configuration.
const ConfigKey = "butler.yaml"

// FormatVersion is the repository format this code writes and reads.
const FormatVersion = 1

// Config is the content of butler.yaml.
type Config struct {
	Format     int             `yaml:"skybutler"`
	Registry   RegistryConfig  `yaml:"registry"`
	Datastore  DatastoreConfig `yaml:"datastore"`
	Dimensions yaml.Node       `yaml:"dimensions"`
}

// DatastoreConfig says where and how dataset files are written.
type DatastoreConfig struct {
	// Templates name the files (daf_butler file template syntax), per dataset
	// type, per storage class, or by default.
	Templates datastore.Templates `yaml:"templates"`
	// Formatters overrides the formatter of a dataset type (name -> formatter).
	Formatters map[string]string `yaml:"formatters,omitempty"`
}

// RegistryConfig holds registry settings.
type RegistryConfig struct {
	CheckpointInterval int64 `yaml:"checkpoint_interval"`
}

// newConfig builds the configuration of a new repository.
func newConfig(u *dimensions.Universe, checkpointInterval int64) (*Config, error) {
	data, err := u.Marshal()
	if err != nil {
		return nil, err
	}
	c := &Config{Format: FormatVersion, Registry: RegistryConfig{CheckpointInterval: checkpointInterval},
		Datastore: DatastoreConfig{Templates: datastore.Templates{Default: datastore.DefaultTemplateFor(u)}}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 1 {
		c.Dimensions = *doc.Content[0]
	}
	return c, nil
}

// Marshal renders the configuration as YAML.
func (c *Config) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

// parseConfig reads butler.yaml and its universe.
func parseConfig(data []byte) (*Config, *dimensions.Universe, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", ConfigKey, err)
	}
	if c.Format != FormatVersion {
		return nil, nil, fmt.Errorf("%s: repository format %d, this skybutler reads %d", ConfigKey, c.Format, FormatVersion)
	}
	if err := c.Datastore.Templates.Check(); err != nil {
		return nil, nil, fmt.Errorf("%s: datastore templates: %w", ConfigKey, err)
	}
	udata, err := yaml.Marshal(&c.Dimensions)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: dimensions: %w", ConfigKey, err)
	}
	u, err := dimensions.Load(udata)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: dimensions: %w", ConfigKey, err)
	}
	return &c, u, nil
}
