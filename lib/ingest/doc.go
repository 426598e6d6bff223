// Package ingest holds the registry-independent parts of upload-triggered
// ingest: reading FITS headers with ranged reads, translating them into a
// dataset type, a data ID and dimension records by per-instrument rules, and
// parsing the storage events that announce uploads.
//
// # Terms
//
//   - Header: the keyword records (cards) of a FITS file's primary HDU,
//     each KEYWORD = value / comment in a fixed 80-character card, 36 cards
//     to a 2880-byte block, ending with an END card (Header, Card).
//   - Translation rules: the translation: section of an instrument
//     definition (schemas/instruments/<name>.yaml) that says how headers of
//     that instrument become a dataset type, a data ID and dimension
//     records. A new instrument is configuration, not code.
//   - Translator: the parsed, universe-checked rules of one instrument;
//     TranslatorSet picks the translator whose match rules a header meets.
//   - Variant: another kind of file of the same instrument (a master dark)
//     with its own dataset type, data ID and records, chosen by when rules.
//   - Object event: one "object created/removed" notification of a storage
//     service (ObjectEvent), whatever envelope (SQS, SNS, EventBridge,
//     versitygw webhook) carried it.
//   - Ingest key: the idempotency key of ingesting one object version,
//     ingest:BUCKET/KEY@ETAG (IngestKey); the registry treats a commit
//     carrying a key it has seen as a no-op, so duplicate events are harmless.
//
// # Reading headers
//
// ReadHeader reads only the header blocks (ReadHeaderFromStore uses ranged
// GETs), parsing cards by hand: strings (a doubled quote is a quote,
// trailing blanks are dropped), logicals T/F, integers (int64), reals with
// E or D exponents (float64), complex values (complex128), undefined values (nil), CONTINUE
// long strings, and ESO HIERARCH keywords ("HIERARCH ESO DET ID = 3" is
// key "ESO DET ID"). COMMENT, HISTORY and other commentary cards are
// dropped. A card whose value cannot be parsed is kept with Card.Malformed
// set, so a bad card only fails a translation that needs it; a header that
// is not FITS, has bytes outside printable ASCII, is truncated, or has no
// END within MaxHeaderBlocks blocks is an error. When the primary HDU has no
// data (NAXIS = 0) the first extension's header is merged (primary values
// win), since raw files often keep their keywords there.
//
// # Translation YAML format
//
//	translation:
//	  match: {INSTRUME: SPHEREx}      # headers of this instrument: every keyword
//	                                  # must have (one of) the value(s); "*" is any
//	                                  # value; default {INSTRUME: <name>}
//	  day_obs_offset: -12h            # for convert: day_obs; default 0h
//	  dataset_type: raw               # a name or a rule; default raw
//	  data_id:                        # dimension -> rule; instrument is implicit
//	    detector: {header: DETECTOR}
//	    exposure: {header: EXPID}
//	    physical_filter: {header: FILTER}       # implied values may be given
//	    group: [{header: GROUPID}, {ref: exposure.obs_id}]
//	    day_obs: {ref: exposure.timespan_begin, convert: day_obs}
//	  records:                        # element -> column -> rule
//	    day_obs:
//	      timespan_begin: {ref: day_obs, convert: day_obs_begin}
//	      timespan_end: {ref: day_obs, convert: day_obs_end}
//	    group: {}
//	    exposure:
//	      obs_id: {header: OBSID}
//	      observation_type: {header: IMGTYPE, map: {SCIENCE: science, DARK: dark}}
//	      target_name: {header: OBJECT, optional: true}
//	      timespan_begin: [{header: [DATE-BEG, DATE-OBS], format: isot}, {header: MJD-OBS, format: mjd}]
//	      timespan_end: [{header: DATE-END, format: isot},
//	                     {ref: exposure.timespan_begin, add_seconds: {header: EXPTIME}}]
//	  validity: {begin: RULE, end: RULE}        # calibrations only: Translation.Validity
//	  variants:                       # other kinds of files, first match wins
//	    - name: dark calibration
//	      when: {CALTYPE: DARK}       # like match
//	      dataset_type: dark          # dataset_type, data_id, records and validity
//	      data_id: {detector: {header: DETECTOR}}   # replace the base sections;
//	      records: {}                 # omitted ones are inherited
//	      validity: {begin: {header: CALDATE, format: isot}}
//	  universes:                      # per universe namespace: replacement sections
//	    spherex: {data_id: ..., records: ...}       # (dataset_type, data_id, records,
//	                                                # validity, variants)
//
// A rule is a mapping with one source:
//
//	header: KEY | [KEY1, KEY2]  the first keyword present with a defined value
//	value: CONSTANT             a constant
//	ref: NAME                   another value of the same translation: a data ID
//	                            dimension ("day_obs", "instrument") or a record
//	                            column ("exposure.timespan_begin"; a dimension
//	                            column such as "exposure.physical_filter" is the
//	                            data ID value)
//
// then optional transforms, applied in this order:
//
//	map: {FROM: TO, ...}        replace the value; keys match case-insensitively
//	                            (logicals as T/F, numbers in decimal); "*" catches
//	                            the rest; an unlisted value is an error; TO null
//	                            means no value
//	format: isot | mjd          read an ISO time "2026-03-01T04:05:06.5" (UTC, an
//	                            optional Z, or a bare date) or a Modified Julian
//	                            Date as a time
//	scale: X, add: Y            a number times X plus Y (zenith = 90 - ALT:
//	                            scale: -1, add: 90)
//	add_seconds: N | RULE       a time plus N seconds (N may be a rule)
//	convert: day_obs            a time -> YYYYMMDD of (time + day_obs_offset) in UTC
//	convert: day_obs_begin|day_obs_end   YYYYMMDD -> start or end of that observing
//	                            day: [date 00:00 UTC - day_obs_offset, +24h)
//
// and what happens without a value:
//
//	default: CONSTANT           the result when the source yields nothing (it is
//	                            not transformed)
//	optional: true              no value is fine (a null column); otherwise a
//	                            missing value is an error naming the keyword
//
// A list of rules is tried in order and the first that yields a value wins;
// it may yield nothing only if one of its rules is optional. Values are
// converted to the column's type: numbers become strings for string columns
// (GROUPID = 17 -> "17"), strings are read as ISO times for timestamps,
// integral floats as integers.
//
// Every file that shares a record must translate to the same values for
// it: the six detector files of a SPHEREx exposure carry one exposure
// record, so its columns (and the implied physical_filter, group and
// day_obs) may only use keywords that are the same in all of them.
//
// Records are built per element named under records, in universe
// (dependency) order, with Element.NewRecord: key, required and implied
// dimension columns come from the data ID (a rule for them under records is
// an error), other columns from their rules, unlisted columns are null.
// The data ID is then normalized against the universe, filling implied
// values from those records and from the instrument definition's own
// (physical_filter -> band); a detector or physical filter the definition
// does not list is an error. Translation.Dimensions, the dataset type's
// dimensions, is the required closure of the data_id dimensions that no
// other one implies: {instrument, detector, exposure} above.
//
// NewTranslator checks everything it can against the universe: unknown
// keys, elements, columns, dimensions, references and reference cycles are
// errors naming the rule ("translation.records.exposure.obs_idd: exposure
// has no column ...").
//
// # Events
//
// ParseEvents accepts S3 event notifications (also as versitygw posts them
// to --event-webhook-url), SQS and SNS envelopes of them, EventBridge S3
// events and the s3:TestEvent; ParseSQSEvent parses an SQS batch message by
// message so that a Lambda can report partial batch failures
// (SQSBatchResponse). Example payloads are in events/ at the repository
// root.
package ingest
