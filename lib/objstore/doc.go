// Package objstore is the only way skybutler touches bytes at rest.
//
// Terms:
//   - Store: a flat namespace of keys ("registry/_log/00000000000000000001.json")
//     holding immutable-or-replaced byte objects. A Store is rooted at a URI
//     (s3://bucket/prefix, file:///abs/path or a plain path); keys are relative
//     to that root, use "/" as separator and never start with "/". ValidKey
//     says which keys are allowed; the same set in every implementation.
//   - ETag: an opaque version tag of one object's current content. Two reads
//     returning the same ETag saw the same bytes; a write of different bytes
//     always changes it (see Store for rewrites of identical bytes).
//   - Conditional put: PutIfAbsent (create-only) and PutIfMatch (compare-and-
//     swap on the ETag). They are the only synchronisation primitive the
//     registry's commit protocol relies on.
//
// Implementations: NewMem (tests, benchmarks), NewFile (the embedded default;
// a local directory; temporary files and flock lock files live in hidden
// ".objstore-*" directories under its root) and NewS3 (any S3-compatible
// server, configured from the standard AWS environment). Open picks one by
// URI; ListAll pages through List. All of them pass the conformance suite in
// package objstoretest; package s3test runs a real S3 server (versitygw) for
// tests.
package objstore
