package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/dimensions"
)

// defWith returns a SPHEREx-like instrument definition whose translation:
// section is the given YAML (indented by the caller's own layout).
func defWith(t *testing.T, translation string) *dimensions.InstrumentDef {
	t.Helper()
	doc := `name: Cam
detectors:
  - {id: 1}
physical_filters:
  - {name: f1, band: b1}
translation:
` + translation
	def, err := dimensions.ParseInstrument([]byte(doc))
	if err != nil {
		t.Fatalf("parse definition: %v\n%s", err, doc)
	}
	return def
}

const minimalRules = `
  data_id:
    detector: {header: DET}
    exposure: {header: EXPID}
  records:
    exposure:
      obs_id: {header: OBSID}
`

func TestNewTranslatorRejectsBadRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rules string
		want  string
	}{
		{"an empty translation section", "  {}\n", "no translation rules"},
		{"an unknown top-level key", minimalRules + "  matches: {INSTRUME: Cam}\n", `translation: unknown key "matches"`},
		{"no data_id", "  dataset_type: raw\n", "translation.data_id: want a mapping of dimensions to rules"},
		{"an unknown dimension", "  data_id: {detektor: {header: DET}}\n", `translation.data_id.detektor: universe skybutler v1 has no dimension "detektor"`},
		{"a rule for the instrument", "  data_id: {instrument: {value: X}, detector: {header: DET}}\n", "translation.data_id.instrument: the instrument comes from the instrument definition"},
		{"a bare keyword instead of a rule", "  data_id: {detector: DET}\n", `translation.data_id.detector: want a rule such as {header: KEYWORD} or {value: CONSTANT}, not "DET"`},
		{"two sources", "  data_id: {detector: {header: DET, value: 1}}\n", "translation.data_id.detector: give one of header, value and ref, not several"},
		{"no source", "  data_id: {detector: {optional: true}}\n", "translation.data_id.detector: give header, value or ref (or default)"},
		{"an unknown rule key", "  data_id: {detector: {header: DET, fromat: isot}}\n", `translation.data_id.detector: unknown key "fromat"`},
		{"an unknown format", "  data_id: {detector: {header: DET, format: jd}}\n", `translation.data_id.detector.format: want one of isot, mjd, not "jd"`},
		{"an unknown conversion", "  data_id: {detector: {header: DET, convert: week}}\n", "translation.data_id.detector.convert: want one of day_obs, day_obs_begin, day_obs_end"},
		{"a non-numeric scale", "  data_id: {detector: {header: DET, scale: big}}\n", `translation.data_id.detector.scale: want a number, not "big"`},
		{"an empty keyword list", "  data_id: {detector: {header: []}}\n", "translation.data_id.detector.header: empty list of keywords"},
		{"an empty map", "  data_id: {detector: {header: DET, map: {}}}\n", "translation.data_id.detector.map: want a non-empty mapping"},
		{"an unknown element", minimalRules + "    visitt: {}\n", `translation.records.visitt: universe skybutler v1 has no element "visitt"`},
		{"an unknown column", "  data_id: {detector: {header: D}, exposure: {header: E}}\n  records:\n    exposure: {obs_idd: {header: O}}\n",
			`translation.records.exposure.obs_idd: exposure has no column "obs_idd"`},
		{"a rule for a dimension column", "  data_id: {detector: {header: D}, exposure: {header: E}}\n  records:\n    exposure: {physical_filter: {header: F}}\n",
			"translation.records.exposure.physical_filter: the value of dimension physical_filter comes from data_id; move the rule to data_id.physical_filter"},
		{"a record whose key the data ID lacks", minimalRules + "    visit: {}\n", "translation.records.visit: the record's key needs data_id.visit"},
		{"a reference to nothing", "  data_id: {detector: {header: D}, exposure: {header: E}, group: {ref: exposure.obs_id}}\n",
			`translation.data_id.group.ref: "exposure.obs_id": records has no exposure`},
		{"a reference to a column without a rule", minimalRules + "  validity: {begin: {ref: exposure.timespan_begin}}\n",
			`translation.validity.begin.ref: "exposure.timespan_begin": records.exposure has no rule for timespan_begin`},
		{"a reference to a dimension without a rule", minimalRules + "  dataset_type: {ref: day_obs}\n",
			`translation.dataset_type.ref: "day_obs" is not a dimension given by data_id`},
		{"a reference cycle", `
  data_id:
    detector: {header: DET}
    exposure: {header: EXPID}
    group: {ref: exposure.obs_id}
  records:
    exposure:
      obs_id: {ref: exposure.target_name}
      target_name: {ref: group}
`, "translation rules refer to each other in a cycle: data_id.group -> exposure.obs_id -> exposure.target_name -> data_id.group"},
		{"a bad day_obs offset", minimalRules + "  day_obs_offset: noon\n", `translation.day_obs_offset: want a duration such as -12h`},
		{"a bad match", minimalRules + "  match: INSTRUME\n", "translation.match: want a mapping of header keywords to values"},
		{"a variant without when", minimalRules + "  variants: [{name: flat}]\n", "translation.variants[0]: missing when"},
		{"a variant without a name", minimalRules + "  variants: [{when: {X: 1}}]\n", "translation.variants[0]: missing name"},
		{"a variant's unknown key", minimalRules + "  variants: [{name: a, when: {X: 1}, match: {}}]\n", `translation.variants[0]: unknown key "match"`},
		{"a bad validity", minimalRules + "  validity: {start: {header: A}}\n", `translation.validity: unknown key "start"`},
		{"a universe override with a bad key", minimalRules + "  universes: {skybutler: {match: {}}}\n", `translation.universes.skybutler: unknown key "match"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTranslator(dimensions.Default(), defWith(t, tc.rules))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant one containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "new translator for Cam: ") {
				t.Fatalf("error %q does not name the action", err)
			}
		})
	}
}

func TestNewTranslatorNeedsTheUniverseToFit(t *testing.T) {
	def := defWith(t, minimalRules)
	_, err := NewTranslator(spherexUniverse(t), def)
	if err == nil || !strings.Contains(err.Error(), `translation.data_id.exposure: universe spherex v1 has no dimension "exposure"`) {
		t.Fatalf("error = %v", err)
	}
}

func TestTranslationRuleFeatures(t *testing.T) {
	tl, err := NewTranslator(dimensions.Default(), defWith(t, `
  match: {TELESCOP: [Big, Small], CAMERA: "*"}
  dataset_type: {header: KIND, map: {OBJ: raw, "*": other}, default: raw}
  data_id:
    detector: {value: 1}
    exposure: {header: [EXPNUM, EXPID]}
  records:
    exposure:
      obs_id: {header: EXPNUM, map: {1: first, 2: null}, default: unnamed}
      zenith_angle: {header: ALT, scale: -1, add: 90, optional: true}
      seq_num: {header: SEQ, scale: 2, optional: true}
      has_simulated: {header: SIM, map: {T: true, F: false}, default: false}
      timespan_begin: {header: MJD, format: mjd, add_seconds: 1.5}
  variants:
    - name: test
      when: {KIND: TEST}
      dataset_type: test
`))
	if err != nil {
		t.Fatal(err)
	}
	base := map[string]any{"TELESCOP": "small", "CAMERA": "anything", "EXPNUM": int64(1), "MJD": 61100.5}
	header := func(edit map[string]any) Header {
		var cards []Card
		for k, v := range base {
			if _, ok := edit[k]; !ok {
				cards = append(cards, Card{Key: k, Value: v})
			}
		}
		for k, v := range edit {
			if v != nil {
				cards = append(cards, Card{Key: k, Value: v})
			}
		}
		return NewHeader(cards...)
	}
	for _, tc := range []struct {
		name  string
		edit  map[string]any
		check func(tr *Translation, exp map[string]any) bool
	}{
		{"a map matches numbers by their decimal form", nil, func(tr *Translation, exp map[string]any) bool {
			return exp["obs_id"] == "first" && tr.DatasetType == "raw" && exp["has_simulated"] == false
		}},
		{"a map to null falls back to the default", map[string]any{"EXPNUM": int64(2)}, func(tr *Translation, exp map[string]any) bool {
			return exp["obs_id"] == "unnamed"
		}},
		{"the second header keyword stands in for the first", map[string]any{"EXPNUM": nil, "EXPID": int64(77)}, func(tr *Translation, exp map[string]any) bool {
			return tr.DataID["exposure"] == int64(77) && exp["obs_id"] == "unnamed"
		}},
		{"a star entry catches other values", map[string]any{"KIND": "CAL"}, func(tr *Translation, exp map[string]any) bool {
			return tr.DatasetType == "other"
		}},
		{"scale and add transform numbers", map[string]any{"ALT": 60.0, "SEQ": int64(4)}, func(tr *Translation, exp map[string]any) bool {
			return exp["zenith_angle"] == 30.0 && exp["seq_num"] == int64(8)
		}},
		{"an MJD plus seconds is a time", nil, func(tr *Translation, exp map[string]any) bool {
			return exp["timespan_begin"] == utc("2026-03-01T12:00:01.5Z")
		}},
		{"logicals map as T and F", map[string]any{"SIM": true}, func(tr *Translation, exp map[string]any) bool {
			return exp["has_simulated"] == true
		}},
		{"a variant replaces the dataset type only", map[string]any{"KIND": "test"}, func(tr *Translation, exp map[string]any) bool {
			return tr.DatasetType == "test" && tr.Variant == "test" && exp["obs_id"] == "first"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := tl.Translate(header(tc.edit))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(tr, recordsByElement(tr)["exposure"]) {
				t.Fatalf("translation %+v, exposure %v", tr, recordsByElement(tr)["exposure"])
			}
		})
	}
	if tl.Matches(header(map[string]any{"TELESCOP": "Huge"})) || tl.Matches(header(map[string]any{"CAMERA": nil})) {
		t.Fatal("match rules must hold for every keyword")
	}
}

func TestDayObs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		t      string
		offset time.Duration
		want   int64
	}{
		{"with no offset the UTC date is the day", "2026-03-01T23:59:59Z", 0, 20260301},
		{"with -12h the morning belongs to the previous day", "2026-03-01T11:59:59Z", -12 * time.Hour, 20260228},
		{"with -12h the afternoon belongs to its own day", "2026-03-01T12:00:00Z", -12 * time.Hour, 20260301},
		{"a year boundary rolls over", "2026-01-01T03:00:00Z", -12 * time.Hour, 20251231},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DayObs(utc(tc.t), tc.offset); got != tc.want {
				t.Fatalf("DayObs = %d, want %d", got, tc.want)
			}
			span, err := DayObsTimespan(tc.want, tc.offset)
			if err != nil || !span.Contains(utc(tc.t)) || span.End.Sub(span.Begin) != 24*time.Hour {
				t.Fatalf("timespan %v of %d does not hold %s (%v)", span, tc.want, tc.t, err)
			}
		})
	}
	for _, bad := range []int64{20260230, 20261301, 2026, 0} {
		if _, err := DayObsTimespan(bad, 0); err == nil {
			t.Errorf("DayObsTimespan(%d) accepted", bad)
		}
	}
}

func TestFromMJD(t *testing.T) {
	for _, tc := range []struct {
		mjd  float64
		want string
	}{
		{0, "1858-11-17T00:00:00Z"},
		{40587, "1970-01-01T00:00:00Z"},
		{61100.25, "2026-03-01T06:00:00Z"},
		{61100.000011574074, "2026-03-01T00:00:01Z"},
	} {
		got, err := fromMJD(tc.mjd)
		if err != nil || !got.Equal(utc(tc.want)) {
			t.Errorf("fromMJD(%v) = %v, %v; want %s", tc.mjd, got, err, tc.want)
		}
	}
}
