// Package dimensions defines dimension universes, data IDs, dimension
// records and timespans, after daf_butler's dimensions.
//
// # Terms
//
//   - Universe: the validated set of dimension elements a repository uses,
//     with a namespace and version. The default universe is
//     schemas/dimensions.yaml (Default); a repository may be created with
//     another one (Load), e.g. examples/spherex/dimensions.yaml. Its elements
//     are kept in universe order: dependencies (requires and implies) first,
//     ties broken by the order of declaration. Every list of dimension names
//     this package returns is in universe order.
//   - Element: one entry of a universe. Each element is a dimension with a
//     table of records (dimension_<element> in the registry). daf_butler's
//     non-dimension elements (visit_detector_region, ...) are not modelled.
//   - Dimension: an element used to label datasets: "instrument", "detector",
//     "exposure". Its key is an int or string value that identifies one of
//     its records within the values of its required dimensions (detector 3
//     of instrument "SPHEREx").
//   - Required dimensions ("requires"): the dimensions whose keys, with the
//     element's own key, form the element's primary key (patch requires
//     skymap and tract). They are closed: an element also requires what its
//     required dimensions require.
//   - Implied dimensions ("implies"): dimensions whose value follows from a
//     record of the element (an exposure implies its physical_filter, which
//     implies its band). They are plain, nullable columns of the element's
//     records, not part of its key. Expand follows requires and implies;
//     Required follows requires only.
//   - Data ID: values for a set of dimensions (DataID, dimension name ->
//     int64 or string). Universe.NormalizeDataID checks one against a set of
//     dimensions: all required keys present, values of the key types, and
//     implied values filled from records.
//   - Record: one row of an element's table: the key columns, the implied
//     columns, the metadata fields and, for temporal elements, the timespan
//     (Element.Columns gives the flat column list used by the registry's
//     Parquet tables and Athena).
//   - Timespan: the half-open interval [Begin, End) of a temporal record
//     (an exposure's time on sky, a day_obs's observing day); a zero bound is
//     unbounded. Stored as the nullable columns timespan_begin and
//     timespan_end.
//
// # Universe YAML format
//
//	version: 1              # int >= 0, the universe's version
//	namespace: skybutler    # letters, digits, '_', '.', '-'
//	elements:               # mapping: element name -> definition
//	  detector:
//	    doc: A detector of an instrument.     # optional
//	    requires: [instrument]                # optional, element names
//	    implies: []                           # optional, element names
//	    key: {name: id, type: int, doc: ...}  # required; type int or string
//	    fields:                               # optional metadata fields
//	      - {name: full_name, type: string, doc: ...}
//	      - {name: purpose, type: string, nullable: false}
//	    temporal: false                       # optional; true adds a timespan
//
// Element, key and field names are lower-case identifiers ([a-z][a-z0-9_]*,
// at most 63 characters); the names timespan, timespan_begin, timespan_end,
// run, collection, dataset_id, dataset_type and ingest_time are reserved
// (the registry uses them as columns next to dimension keys). Field types
// are string, int, float, bool and timestamp. Fields are nullable unless
// they say "nullable: false". A field may not share a name with the
// element's key, the element, or one of its required or implied dimensions.
//
// Load rejects unknown or duplicate keys (with line numbers), YAML merge
// keys, references to unknown elements, an element requiring or implying
// itself, dependency cycles over requires and implies, and an element that
// implies a dimension whose required dimensions it neither requires nor
// implies. Marshal writes the same format with requires closed and lists in
// universe order.
//
// Columns of an element's records, in order: one per required dimension
// (named after it, typed as its key), the element's own key (named after
// the element: the detector table's key column is "detector", not "id"),
// one per implied dimension (nullable), the fields, then timespan_begin and
// timespan_end (nullable timestamps) when temporal.
//
// # Instrument definition format
//
// schemas/instruments/<name>.yaml describes the records registering an
// instrument creates (ParseInstrument, InstrumentDef.Records):
//
//	name: SPHEREx                 # the instrument record's key
//	doc: ...                      # optional free text
//	record: {class_name: ..., detector_max: 7}   # other instrument columns
//	detectors:                    # detector records; key as id (or detector)
//	  - {id: 1, full_name: SPHEREx-D1, purpose: SCIENCE}
//	physical_filters:             # physical_filter records; key as name
//	  - {name: SPHEREx-D1, band: spx1}
//	translation: {}               # header translation rules (not yet used)
//
// The instrument column of detector and physical_filter records is filled
// from name; bands are created from the physical filters' band values.
// Unknown top-level keys are errors; unknown record columns are errors when
// the records are built against a universe.
package dimensions
