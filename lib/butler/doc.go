// Package butler opens and creates skybutler repositories.
//
// Terms:
//   - Repository: a root URI (s3://bucket/prefix, file:///abs/path or a plain
//     path) holding butler.yaml, the registry (registry/) and the datastore
//     (datastore/).
//   - butler.yaml: the repository configuration — the dimension universe and
//     registry settings. It is written once, by create, before commit 0.
//   - Butler: a handle on one repository: its store, configuration and
//     registry.
package butler
