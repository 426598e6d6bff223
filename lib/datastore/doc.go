// Package datastore turns datasets into files and back: file templates
// name them, storage classes and formatters serialise them, checksums
// verify them. It is modelled on daf_butler's FileDatastore and knows
// nothing of the registry (it imports only dimensions and objstore).
//
// # Terms
//
//   - Datastore: the part of a repository that holds dataset files, under
//     ROOT/datastore/ in the object store. A datastore record maps a dataset
//     ID to the file's path, formatter, storage class, size and checksum;
//     the registry keeps those records in its "files" table.
//   - File template: a pattern that names a dataset's file from its run,
//     dataset type, data ID and dimension records, in daf_butler syntax:
//     "{run:/}/{datasetType}/{band:?}/{exposure}/{datasetType}_{exposure:08d}_{detector}_{run}".
//     Fields are {name}; {name:?} is optional; {a|b} takes the first
//     alternative with a value; {exposure.obs_id} is a field of a dimension
//     record; {run}, {collection} (the run), {datasetType}, {component},
//     {storageClass} and {id} (the dataset UUID) are special fields;
//     {exposure:08d} zero-pads an integer; {run:/} keeps '/' in the value as
//     directories; {{ and }} are literal braces. A template must contain a
//     required {run} or {id}. Rendering (Template.Render) never yields a
//     path that escapes the datastore root: see Render for the rules.
//     Templates chooses a template per dataset type, storage class or
//     default; DefaultTemplate names every dimension of the default universe.
//   - Storage class: the name of an in-memory type of dataset (ImageF,
//     ExposureF, ArrowTable, DataFrame, StructuredDataDict, Config,
//     TaskMetadata, ButlerLogRecords, Bytes), the Go types that represent it
//     (Image, Table, Dict, []byte) and the formatters that can store it, the
//     first being its default.
//   - Formatter: converts an in-memory object to the bytes of a file and
//     back, with a fixed file extension: fits (.fits, Image), parquet
//     (.parquet, Table), json (.json, Dict), yaml (.yaml, Dict) and bytes
//     (.dat, []byte). FormatterFor binds a formatter to a storage class so
//     that writing an object of the wrong type fails with an error naming
//     both; a dataset type may override the default formatter by name.
//   - Checksum: "sha256:" and the hex SHA-256 of a file's bytes, recorded
//     with the dataset and verified when the file is read or merged.
//
// # Files
//
// FITS files are readable by standard tools (fitsverify passes); Parquet
// files by DuckDB and Athena; JSON and YAML files have sorted keys so that
// equal objects give equal bytes.
package datastore
