package synth

import (
	"fmt"
	"time"

	"github.com/astrogo/fitsio"
)

// isot formats a time as FITS wants it: ISO 8601 in UTC, milliseconds, no zone.
func isot(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000") }

// detector properties: electrons/s of dark current and zodiacal light.
var (
	darkRate = [7]float64{0, 0.010, 0.012, 0.015, 0.020, 0.035, 0.050}
	zodiRate = [7]float64{0, 0.45, 0.60, 0.80, 0.55, 1.40, 2.60}
	lvfRange = [7][2]float64{{}, {0.75, 1.11}, {1.11, 1.64}, {1.64, 2.42}, {2.42, 3.82}, {3.82, 4.42}, {4.42, 5.00}}
)

const (
	gain     = 1.5   // electrons per ADU
	readNois = 12.0  // electrons
	pedestal = 500.0 // ADU
	pixScale = 6.2   // arcsec per pixel
)

func commonCards(det int) []fitsio.Card {
	return []fitsio.Card{
		{Name: "ORIGIN", Value: "skybutler synth", Comment: "organization or software that wrote the file"},
		{Name: "TELESCOP", Value: "SPHEREx", Comment: "telescope"},
		{Name: "INSTRUME", Value: Instrument, Comment: "instrument"},
		{Name: "DETECTOR", Value: det, Comment: "detector array number (1-6)"},
		{Name: "DETNAME", Value: fmt.Sprintf("SPHEREx-D%d", det), Comment: "detector array name"},
		{Name: "FILTER", Value: fmt.Sprintf("SPHEREx-D%d", det), Comment: "linear variable filter of the array"},
		{Name: "WAVEMIN", Value: lvfRange[det][0], Comment: "[um] shortest wavelength of the LVF"},
		{Name: "WAVEMAX", Value: lvfRange[det][1], Comment: "[um] longest wavelength of the LVF"},
	}
}

func rawCards(o Options, e exposure, det int) []fitsio.Card {
	cards := []fitsio.Card{
		{Name: "DATE", Value: isot(e.end.Add(time.Minute)), Comment: "file creation date (UTC)"},
	}
	cards = append(cards, commonCards(det)...)
	cards = append(cards,
		fitsio.Card{Name: "EXPID", Value: int(e.id), Comment: "exposure id: YYYYMMDD * 100000 + SEQNUM"},
		fitsio.Card{Name: "OBSID", Value: e.obsID, Comment: "observation id"},
		fitsio.Card{Name: "SEQNUM", Value: e.seq, Comment: "exposure number within the UTC day"},
		fitsio.Card{Name: "GROUPID", Value: e.group, Comment: "pointing group"},
		fitsio.Card{Name: "IMGTYPE", Value: e.imgType, Comment: "SCIENCE, DARK or FLAT"},
		fitsio.Card{Name: "OBJECT", Value: e.field, Comment: "survey field"},
		fitsio.Card{Name: "PROGRAM", Value: "ALLSKY", Comment: "survey program"},
		fitsio.Card{Name: "TIMESYS", Value: "UTC", Comment: "time scale of the DATE keywords"},
		fitsio.Card{Name: "DATE-OBS", Value: isot(e.begin), Comment: "start of the exposure (UTC)"},
		fitsio.Card{Name: "DATE-BEG", Value: isot(e.begin), Comment: "start of the exposure (UTC)"},
		fitsio.Card{Name: "DATE-END", Value: isot(e.end), Comment: "end of the exposure (UTC)"},
		fitsio.Card{Name: "EXPTIME", Value: o.ExposureTime, Comment: "[s] exposure time"},
		fitsio.Card{Name: "DARKTIME", Value: o.ExposureTime, Comment: "[s] dark current integration time"},
		fitsio.Card{Name: "RA", Value: e.ra, Comment: "[deg] boresight right ascension (ICRS)"},
		fitsio.Card{Name: "DEC", Value: e.dec, Comment: "[deg] boresight declination (ICRS)"},
		fitsio.Card{Name: "RADESYS", Value: "ICRS", Comment: "celestial reference frame"},
		fitsio.Card{Name: "CTYPE1", Value: "RA---TAN", Comment: "gnomonic projection"},
		fitsio.Card{Name: "CTYPE2", Value: "DEC--TAN", Comment: "gnomonic projection"},
		fitsio.Card{Name: "CRPIX1", Value: float64(o.Size)/2 + 0.5, Comment: "reference pixel"},
		fitsio.Card{Name: "CRPIX2", Value: float64(o.Size)/2 + 0.5, Comment: "reference pixel"},
		fitsio.Card{Name: "CRVAL1", Value: e.ra, Comment: "[deg] RA at the reference pixel"},
		fitsio.Card{Name: "CRVAL2", Value: e.dec, Comment: "[deg] Dec at the reference pixel"},
		fitsio.Card{Name: "CDELT1", Value: -pixScale / 3600, Comment: "[deg] pixel scale"},
		fitsio.Card{Name: "CDELT2", Value: pixScale / 3600, Comment: "[deg] pixel scale"},
		fitsio.Card{Name: "CUNIT1", Value: "deg", Comment: "unit of CRVAL1 and CDELT1"},
		fitsio.Card{Name: "CUNIT2", Value: "deg", Comment: "unit of CRVAL2 and CDELT2"},
		fitsio.Card{Name: "BUNIT", Value: "adu", Comment: "pixel unit"},
		fitsio.Card{Name: "GAIN", Value: gain, Comment: "[electron/adu] conversion gain"},
		fitsio.Card{Name: "RDNOISE", Value: readNois, Comment: "[electron] read noise"},
		fitsio.Card{Name: "SIMULATE", Value: true, Comment: "synthetic data"},
	)
	return cards
}

func darkCards(o Options, epoch int, validity [2]time.Time, det int) []fitsio.Card {
	cards := []fitsio.Card{
		{Name: "DATE", Value: isot(validity[0].Add(-time.Hour)), Comment: "file creation date (UTC)"},
	}
	cards = append(cards, commonCards(det)...)
	cards = append(cards,
		fitsio.Card{Name: "IMGTYPE", Value: "DARK", Comment: "SCIENCE, DARK or FLAT"},
		fitsio.Card{Name: "CALTYPE", Value: "DARK", Comment: "calibration product: master dark"},
		fitsio.Card{Name: "CALEPOCH", Value: epoch, Comment: "dark epoch number"},
		fitsio.Card{Name: "TIMESYS", Value: "UTC", Comment: "time scale of the DATE keywords"},
		fitsio.Card{Name: "CALDATE", Value: isot(validity[0]), Comment: "start of validity (UTC)"},
		fitsio.Card{Name: "VALIDEND", Value: isot(validity[1]), Comment: "end of validity (UTC, exclusive)"},
		fitsio.Card{Name: "NCOMBINE", Value: 20, Comment: "number of dark exposures combined"},
		fitsio.Card{Name: "BUNIT", Value: "electron/s", Comment: "pixel unit: dark current rate"},
		fitsio.Card{Name: "SIMULATE", Value: true, Comment: "synthetic data"},
	)
	return cards
}
