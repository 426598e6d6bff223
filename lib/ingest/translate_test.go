package ingest

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skybutler/skybutler/examples/synth"
	"github.com/skybutler/skybutler/lib/dimensions"
)

func shippedDef(t testing.TB, name string) *dimensions.InstrumentDef {
	t.Helper()
	data, err := dimensions.LoadInstrument(name)
	if err != nil {
		t.Fatal(err)
	}
	def, err := dimensions.ParseInstrument(data)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func spherexUniverse(t testing.TB) *dimensions.Universe {
	t.Helper()
	data, err := os.ReadFile("../../examples/spherex/dimensions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	u, err := dimensions.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func translator(t testing.TB, u *dimensions.Universe, name string) *Translator {
	t.Helper()
	tr, err := NewTranslator(u, shippedDef(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// spherexHeader is a minimal complete SPHEREx raw header; edit changes it
// (a nil value removes the keyword).
func spherexHeader(edit map[string]any) Header {
	cards := []Card{
		{Key: "SIMPLE", Value: true},
		{Key: "INSTRUME", Value: "SPHEREx"},
		{Key: "DETECTOR", Value: int64(2)},
		{Key: "FILTER", Value: "SPHEREx-D2"},
		{Key: "EXPID", Value: int64(2026030100007)},
		{Key: "OBSID", Value: "SPX-20260301-00007"},
		{Key: "SEQNUM", Value: int64(7)},
		{Key: "GROUPID", Value: "SPX-20260301-G0002"},
		{Key: "IMGTYPE", Value: "SCIENCE"},
		{Key: "OBJECT", Value: "SPX-FIELD-0001"},
		{Key: "PROGRAM", Value: "ALLSKY"},
		{Key: "DATE-BEG", Value: "2026-03-01T23:59:00.000"},
		{Key: "DATE-END", Value: "2026-03-02T00:00:52.000"},
		{Key: "EXPTIME", Value: 112.0},
		{Key: "RA", Value: 10.5},
		{Key: "DEC", Value: -20.25},
	}
	var out []Card
	for _, c := range cards {
		if v, ok := edit[c.Key]; ok {
			if v == nil {
				continue
			}
			if m, ok := v.(Card); ok {
				c = m
			} else {
				c.Value = v
			}
		}
		out = append(out, c)
	}
	for k, v := range edit {
		if v != nil && !slices.ContainsFunc(cards, func(c Card) bool { return c.Key == k }) {
			out = append(out, Card{Key: k, Value: v})
		}
	}
	return NewHeader(out...)
}

func recordsByElement(tr *Translation) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range tr.Records {
		out[r.Element] = r.Values
	}
	return out
}

func TestTranslateGeneratedSPHERExRaws(t *testing.T) {
	files, err := synth.GenerateRaws(t.TempDir(), synth.Options{Exposures: 3, DarkEvery: 3})
	if err != nil {
		t.Fatal(err)
	}
	tl := translator(t, dimensions.Default(), "spherex")
	seen := map[string]bool{}
	for _, f := range files {
		h, err := ReadHeaderFromFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := tl.Translate(h)
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
		if key := tr.DataID.String(); seen[key] {
			t.Fatalf("data ID %s twice", key)
		} else {
			seen[key] = true
		}
		if tr.DataID["exposure"] != f.Exposure || tr.DataID["detector"] != int64(f.Detector) {
			t.Fatalf("%s: data ID %v, want exposure %d detector %d", f.Path, tr.DataID, f.Exposure, f.Detector)
		}
	}
	if len(seen) != 18 {
		t.Fatalf("%d distinct data IDs, want 18", len(seen))
	}

	for _, tc := range []struct {
		name    string
		file    synth.FileInfo
		obsType string
		seeSky  bool
	}{
		{"the first science exposure of detector 1", files[0], "science", true},
		{"the dark exposure of detector 6", files[17], "dark", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ReadHeaderFromFile(tc.file.Path)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := tl.Translate(h)
			if err != nil {
				t.Fatal(err)
			}
			det := int64(tc.file.Detector)
			// An exposure implies one physical filter, and SPHEREx takes all six
			// detectors through their LVFs at once: the whole set, SPHEREx-LVF.
			filter := "SPHEREx-LVF"
			group := "SPX-20260301-G0001"
			if tr.DatasetType != "raw" || tr.Instrument != "SPHEREx" || tr.Variant != "" || tr.Validity != nil {
				t.Fatalf("translation %+v", tr)
			}
			if !slices.Equal(tr.Dimensions, []string{"instrument", "detector", "exposure"}) {
				t.Fatalf("dimensions %v", tr.Dimensions)
			}
			wantID := dimensions.DataID{"instrument": "SPHEREx", "detector": det, "exposure": tc.file.Exposure,
				"physical_filter": filter, "band": "spx", "group": group, "day_obs": int64(20260301)}
			if !reflect.DeepEqual(tr.DataID, wantID) {
				t.Fatalf("data ID\n got %v\nwant %v", tr.DataID, wantID)
			}
			var order []string
			for _, r := range tr.Records {
				order = append(order, r.Element)
			}
			if !slices.Equal(order, []string{"day_obs", "group", "exposure"}) {
				t.Fatalf("records in order %v", order)
			}
			ra, _ := h.Float("RA")
			dec, _ := h.Float("DEC")
			object, _ := h.String("OBJECT")
			recs := recordsByElement(tr)
			want := map[string]map[string]any{
				"day_obs": {"instrument": "SPHEREx", "day_obs": int64(20260301),
					"timespan_begin": utc("2026-03-01T00:00:00Z"), "timespan_end": utc("2026-03-02T00:00:00Z")},
				"group": {"instrument": "SPHEREx", "group": group},
				"exposure": {"instrument": "SPHEREx", "exposure": tc.file.Exposure, "physical_filter": filter,
					"group": group, "day_obs": int64(20260301), "obs_id": tc.file.ObsID,
					"exposure_time": 112.0, "dark_time": 112.0, "observation_type": tc.obsType,
					"observation_reason": nil, "target_name": object, "science_program": "ALLSKY",
					"tracking_ra": ra, "tracking_dec": dec, "sky_angle": nil, "azimuth": nil, "zenith_angle": nil,
					"seq_num": tc.file.Exposure % 100000, "seq_start": nil, "seq_end": nil,
					"has_simulated": true, "can_see_sky": tc.seeSky,
					"timespan_begin": tc.file.Begin, "timespan_end": tc.file.End},
			}
			if !reflect.DeepEqual(recs, want) {
				t.Fatalf("records\n got %v\nwant %v", recs, want)
			}
			if object == "" || ra == 0 {
				t.Fatal("the generated header lacks OBJECT or RA")
			}
		})
	}
}

func TestTheDetectorsOfAnExposureShareItsRecords(t *testing.T) {
	files, err := synth.GenerateRaws(t.TempDir(), synth.Options{Exposures: 2})
	if err != nil {
		t.Fatal(err)
	}
	tl := translator(t, dimensions.Default(), "spherex")
	first := map[int64][]dimensions.Record{}
	for _, f := range files {
		h, err := ReadHeaderFromFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := tl.Translate(h)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := first[f.Exposure]; !ok {
			first[f.Exposure] = tr.Records
		} else if !reflect.DeepEqual(prev, tr.Records) {
			t.Fatalf("detector %d of exposure %d: records\n%v\ndiffer from detector 1's\n%v", f.Detector, f.Exposure, tr.Records, prev)
		}
	}
	if len(first) != 2 {
		t.Fatalf("%d exposures", len(first))
	}
}

func TestTranslateRejectsAFilterTheInstrumentLacks(t *testing.T) {
	h := NewHeader(Card{Key: "INSTRUME", Value: "DemoCam"}, Card{Key: "CCDNUM", Value: int64(0)}, Card{Key: "EXPNUM", Value: int64(1)},
		Card{Key: "OBSID", Value: "dc_1"}, Card{Key: "OBSTYPE", Value: "OBJECT"}, Card{Key: "FILTER", Value: "z"},
		Card{Key: "EXPTIME", Value: 30.0}, Card{Key: "DATE-OBS", Value: "2026-03-01T05:00:00"})
	_, err := translator(t, dimensions.Default(), "democam").Translate(h)
	if err == nil || !strings.Contains(err.Error(), "translate DemoCam header: physical_filter z is not a physical_filter of instrument DemoCam (it has g, r, i)") {
		t.Fatalf("error = %v", err)
	}
}

func TestTranslateHeaderVariations(t *testing.T) {
	tl := translator(t, dimensions.Default(), "spherex")
	for _, tc := range []struct {
		name  string
		edit  map[string]any
		check func(t *testing.T, id dimensions.DataID, exp map[string]any)
	}{
		{"DATE-BEG and DATE-END give the timespan and day_obs", nil, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if exp["timespan_begin"] != utc("2026-03-01T23:59:00Z") || exp["timespan_end"] != utc("2026-03-02T00:00:52Z") || id["day_obs"] != int64(20260301) {
				t.Fatalf("timespan %v - %v, day_obs %v", exp["timespan_begin"], exp["timespan_end"], id["day_obs"])
			}
		}},
		{"DATE-OBS stands in for DATE-BEG", map[string]any{"DATE-BEG": nil, "DATE-OBS": "2026-03-01T10:00:00Z"}, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if exp["timespan_begin"] != utc("2026-03-01T10:00:00Z") {
				t.Fatalf("begin %v", exp["timespan_begin"])
			}
		}},
		{"MJD-OBS stands in for ISO dates", map[string]any{"DATE-BEG": nil, "MJD-OBS": 61100.25, "DATE-END": nil}, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if exp["timespan_begin"] != utc("2026-03-01T06:00:00Z") || exp["timespan_end"] != utc("2026-03-01T06:01:52Z") {
				t.Fatalf("timespan %v - %v", exp["timespan_begin"], exp["timespan_end"])
			}
		}},
		{"EXPTIME after the start stands in for DATE-END", map[string]any{"DATE-END": nil, "EXPTIME": 30.5}, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if exp["timespan_end"] != utc("2026-03-01T23:59:30.5Z") || exp["dark_time"] != 30.5 {
				t.Fatalf("end %v, dark_time %v", exp["timespan_end"], exp["dark_time"])
			}
		}},
		{"DARKTIME wins over EXPTIME for the dark time", map[string]any{"DARKTIME": 120.0}, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if exp["dark_time"] != 120.0 || exp["exposure_time"] != 112.0 {
				t.Fatalf("dark_time %v exposure_time %v", exp["dark_time"], exp["exposure_time"])
			}
		}},
		{"without GROUPID an exposure is its own group", map[string]any{"GROUPID": nil}, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if id["group"] != "SPX-20260301-00007" || exp["group"] != "SPX-20260301-00007" {
				t.Fatalf("group %v / %v", id["group"], exp["group"])
			}
		}},
		{"a numeric GROUPID becomes a string", map[string]any{"GROUPID": int64(17)}, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if id["group"] != "17" {
				t.Fatalf("group %#v", id["group"])
			}
		}},
		{"optional keywords may be missing", map[string]any{"OBJECT": nil, "RA": nil, "DEC": nil, "PROGRAM": nil, "SEQNUM": nil}, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if exp["target_name"] != nil || exp["tracking_ra"] != nil || exp["seq_num"] != nil || exp["has_simulated"] != false {
				t.Fatalf("exposure %v", exp)
			}
		}},
		{"an undefined optional value counts as missing", map[string]any{"OBJECT": Card{Key: "OBJECT"}}, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if exp["target_name"] != nil {
				t.Fatalf("target_name %v", exp["target_name"])
			}
		}},
		{"image types map case-insensitively", map[string]any{"IMGTYPE": " flat "}, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if exp["observation_type"] != "flat" || exp["can_see_sky"] != false {
				t.Fatalf("observation_type %v can_see_sky %v", exp["observation_type"], exp["can_see_sky"])
			}
		}},
		{"an integral float detector number is an integer", map[string]any{"DETECTOR": 2.0}, func(t *testing.T, id dimensions.DataID, exp map[string]any) {
			if id["detector"] != int64(2) {
				t.Fatalf("detector %#v", id["detector"])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := tl.Translate(spherexHeader(tc.edit))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, tr.DataID, recordsByElement(tr)["exposure"])
		})
	}
}

func TestTranslateErrors(t *testing.T) {
	tl := translator(t, dimensions.Default(), "spherex")
	for _, tc := range []struct {
		name    string
		edit    map[string]any
		want    string
		missing bool
	}{
		{"a missing OBSID is named", map[string]any{"OBSID": nil},
			"translate SPHEREx header: translation.records.exposure.obs_id: missing header keyword OBSID", true},
		{"a missing DETECTOR is named", map[string]any{"DETECTOR": nil},
			"translate SPHEREx header: translation.data_id.detector: missing header keyword DETECTOR", true},
		{"missing start times name every alternative", map[string]any{"DATE-BEG": nil},
			"translation.records.exposure.timespan_begin: missing header keywords DATE-BEG, DATE-OBS, or header keyword MJD-OBS", true},
		{"a missing end and EXPTIME are named", map[string]any{"DATE-END": nil, "EXPTIME": nil},
			"translation.records.exposure.exposure_time: missing header keyword EXPTIME", true},
		{"an unreadable date is named", map[string]any{"DATE-BEG": "yesterday"},
			"translation.records.exposure.timespan_begin: header keyword DATE-BEG: cannot read 'yesterday' as a time: want an ISO time", false},
		{"a malformed card is named", map[string]any{"EXPTIME": Card{Key: "EXPTIME", Malformed: "1.2.3"}},
			"translation.records.exposure.exposure_time: header keyword EXPTIME: malformed value '1.2.3'", false},
		{"an unlisted image type is named", map[string]any{"IMGTYPE": "BIAS"},
			`header keyword IMGTYPE is 'BIAS' (string), which the map does not list (it has DARK, FLAT, SCIENCE; add it or a "*" entry)`, false},
		{"an unknown detector is rejected", map[string]any{"DETECTOR": int64(9)},
			"detector 9 is not a detector of instrument SPHEREx (it has 1, 2, 3, 4, 5, 6)", false},
		{"a non-numeric exposure id is rejected", map[string]any{"EXPID": "abc"},
			`translation.data_id.exposure: cannot use "abc" (string) as int`, false},
		{"an end before the start is rejected", map[string]any{"DATE-END": "2026-03-01T00:00:00"},
			"exposure record from the header: new exposure record: timespan ends", false},
		{"another instrument's header does not match", map[string]any{"INSTRUME": "DemoCam"},
			"translate SPHEREx header: header matches no instrument SPHEREx: INSTRUME is 'DemoCam' (string), want SPHEREx", false},
		{"a header without INSTRUME does not match", map[string]any{"INSTRUME": nil},
			"header matches no instrument SPHEREx: the header has no INSTRUME", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tl.Translate(spherexHeader(tc.edit))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant one containing %q", err, tc.want)
			}
			if errors.Is(err, ErrMissingKeyword) != tc.missing {
				t.Fatalf("errors.Is(err, ErrMissingKeyword) = %v, want %v", !tc.missing, tc.missing)
			}
		})
	}
}

func TestTranslateGeneratedDarkCalibrations(t *testing.T) {
	opts := synth.Options{Exposures: 100, Darks: 2}
	files, err := synth.GenerateDarks(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 12 {
		t.Fatalf("%d darks, want 12", len(files))
	}
	epochs := synth.DarkEpochs(opts)
	tl := translator(t, dimensions.Default(), "spherex")
	for i, f := range files {
		h, err := ReadHeaderFromFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := tl.Translate(h)
		if err != nil {
			t.Fatal(err)
		}
		ep := epochs[i/6]
		want := &Translation{Instrument: "SPHEREx", Variant: "dark calibration", DatasetType: "dark",
			Dimensions: []string{"instrument", "detector"},
			DataID:     dimensions.DataID{"instrument": "SPHEREx", "detector": int64(f.Detector)},
			Validity:   &dimensions.Timespan{Begin: ep[0], End: ep[1]}}
		if !reflect.DeepEqual(tr, want) {
			t.Fatalf("%s:\n got %+v %v\nwant %+v %v", f.Path, tr, tr.Validity, want, want.Validity)
		}
		if !f.Begin.Equal(ep[0]) || !f.End.Equal(ep[1]) {
			t.Fatalf("file info validity %v-%v, want %v", f.Begin, f.End, ep)
		}
	}
	if !epochs[0][1].Equal(epochs[1][0]) || !epochs[0][0].Equal(utc("2026-03-01T00:00:00Z")) {
		t.Fatalf("epochs %v do not tile the time from the start", epochs)
	}
}

func TestTranslateInTheSPHERExUniverse(t *testing.T) {
	files, err := synth.GenerateRaws(t.TempDir(), synth.Options{Exposures: 1, Detectors: []int{4}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := ReadHeaderFromFile(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := translator(t, spherexUniverse(t), "spherex").Translate(h)
	if err != nil {
		t.Fatal(err)
	}
	object, _ := h.String("OBJECT")
	if !slices.Equal(tr.Dimensions, []string{"instrument", "detector", "observation"}) ||
		!reflect.DeepEqual(tr.DataID, dimensions.DataID{"instrument": "SPHEREx", "detector": int64(4), "observation": files[0].Exposure}) {
		t.Fatalf("dimensions %v, data ID %v", tr.Dimensions, tr.DataID)
	}
	want := []dimensions.Record{{Element: "observation", Values: map[string]any{
		"instrument": "SPHEREx", "observation": files[0].Exposure, "obs_id": files[0].ObsID, "exposure_time": 112.0,
		"observation_type": "science", "target_name": object,
		"timespan_begin": files[0].Begin, "timespan_end": files[0].End}}}
	if !reflect.DeepEqual(tr.Records, want) {
		t.Fatalf("records\n got %v\nwant %v", tr.Records, want)
	}
}

func TestTranslateDemoCamWithANoonDayObsRollover(t *testing.T) {
	tl := translator(t, dimensions.Default(), "democam")
	if tl.DayObsOffset() != -12*time.Hour {
		t.Fatalf("offset %v", tl.DayObsOffset())
	}
	base := []Card{
		{Key: "INSTRUME", Value: "DemoCam"}, {Key: "CCDNUM", Value: int64(1)}, {Key: "EXPNUM", Value: int64(4242)},
		{Key: "OBSID", Value: "dc_4242"}, {Key: "OBSTYPE", Value: "dome flat"}, {Key: "FILTER", Value: "g"},
		{Key: "EXPTIME", Value: 30.0}, {Key: "ALT", Value: 60.0},
	}
	for _, tc := range []struct {
		name     string
		date     string
		dayObs   int64
		dayBegin string
	}{
		{"before noon UTC belongs to the previous day", "2026-03-01T05:00:00", 20260228, "2026-02-28T12:00:00Z"},
		{"at noon UTC a new day begins", "2026-03-01T12:00:00", 20260301, "2026-03-01T12:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHeader(append(slices.Clone(base), Card{Key: "DATE-OBS", Value: tc.date})...)
			tr, err := tl.Translate(h)
			if err != nil {
				t.Fatal(err)
			}
			recs := recordsByElement(tr)
			if tr.DataID["day_obs"] != tc.dayObs || tr.DataID["band"] != "g" || tr.DataID["group"] != "dc_4242" {
				t.Fatalf("data ID %v", tr.DataID)
			}
			if recs["day_obs"]["timespan_begin"] != utc(tc.dayBegin) || recs["day_obs"]["timespan_end"] != utc(tc.dayBegin).Add(24*time.Hour) {
				t.Fatalf("day_obs record %v", recs["day_obs"])
			}
			exp := recs["exposure"]
			if exp["zenith_angle"] != 30.0 || exp["observation_type"] != "flat" || exp["timespan_end"] != utc(tc.date+"Z").Add(30*time.Second) {
				t.Fatalf("exposure record %v", exp)
			}
		})
	}
}

func TestShippedTranslationsBuildInBothUniverses(t *testing.T) {
	for _, u := range []*dimensions.Universe{dimensions.Default(), spherexUniverse(t)} {
		for _, name := range dimensions.Instruments() {
			t.Run(name+" in "+u.String(), func(t *testing.T) {
				tl := translator(t, u, name)
				if tl.Instrument() == "" || tl.Universe() != u {
					t.Fatal("translator lacks its instrument or universe")
				}
			})
		}
	}
}

func TestTranslatorSetChoosesByInstrument(t *testing.T) {
	set, err := NewTranslatorSetFromDefs(dimensions.Default(), shippedDef(t, "spherex"), shippedDef(t, "democam"))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Instruments(); !slices.Equal(got, []string{"SPHEREx", "DemoCam"}) {
		t.Fatalf("instruments %v", got)
	}
	tl, err := set.Find(NewHeader(Card{Key: "INSTRUME", Value: "democam"}))
	if err != nil || tl.Instrument() != "DemoCam" {
		t.Fatalf("find DemoCam: %v, %v", tl, err)
	}
	tr, err := set.Translate(spherexHeader(nil))
	if err != nil || tr.Instrument != "SPHEREx" {
		t.Fatalf("translate a SPHEREx header: %v, %v", tr, err)
	}
	_, err = set.Find(NewHeader(Card{Key: "INSTRUME", Value: "LSSTCam"}))
	if !errors.Is(err, ErrNoMatch) || !strings.Contains(err.Error(), "INSTRUME is 'LSSTCam' (string); known instruments: SPHEREx, DemoCam") {
		t.Fatalf("unknown instrument: %v", err)
	}
	_, err = set.Translate(NewHeader(Card{Key: "TELESCOP", Value: "x"}))
	if !errors.Is(err, ErrNoMatch) || !strings.Contains(err.Error(), "the header has no INSTRUME") {
		t.Fatalf("no INSTRUME: %v", err)
	}
	twin := translator(t, dimensions.Default(), "spherex")
	if _, err := NewTranslatorSet(twin, twin); err == nil {
		t.Fatal("the same instrument twice must be an error")
	}
}
