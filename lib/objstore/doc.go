// Package objstore is the only way skybutler touches bytes at rest.
//
// Terms:
//   - Store: a flat namespace of keys ("registry/_log/00000000000000000001.json")
//     holding immutable-or-replaced byte objects. A Store is rooted at a URI
//     (s3://bucket/prefix, file:///abs/path or a plain path); keys are relative
//     to that root, use "/" as separator and never start with "/".
//   - ETag: an opaque version tag of one object's current content. Two reads
//     returning the same ETag saw the same bytes; a write always changes it.
//   - Conditional put: PutIfAbsent (create-only) and PutIfMatch (compare-and-
//     swap on the ETag). They are the only synchronisation primitive the
//     registry's commit protocol relies on.
//
// Implementations: mem (tests, benchmarks), file (the embedded default; a
// local directory) and s3 (any S3-compatible server). All of them must pass
// the conformance suite in package objstoretest.
package objstore
