// Package synth writes synthetic SPHEREx-like FITS files for tests, demos
// and benchmarks: raw exposures and master dark calibration frames whose
// headers carry every keyword the SPHEREx translation rules of
// schemas/instruments/spherex.yaml need. Output is deterministic: the same
// Options give byte-identical files.
//
// # Terms
//
//   - Exposure: one observation; all six detector arrays are read out, so
//     it yields six raw files, raw_SPHEREx_<EXPID>_<DETECTOR>.fits. EXPID is
//     YYYYMMDD * 100000 + SEQNUM, with SEQNUM counting exposures from 1 on
//     each UTC day (SPHEREx's day_obs offset is 0).
//   - Group: consecutive exposures of one pointing pattern
//     (Options.GroupSize), named in GROUPID; they share RA/DEC up to a small
//     dither.
//   - Dark epoch: an interval in which one master dark per detector is
//     valid. GenerateDarks splits the time the raws span into Options.Darks
//     epochs and writes dark_SPHEREx_<EPOCH>_<DETECTOR>.fits with
//     CALTYPE = 'DARK', IMGTYPE = 'DARK', and the validity range in CALDATE
//     (start) and VALIDEND (end).
//
// # Pixels
//
// Images are Options.Size² float32 pixels in the primary HDU. Raw pixels are
// ADU: a pedestal, plus (dark current + zodiacal sky) × EXPTIME electrons
// and a few stars, with Gaussian shot and read noise, divided by GAIN. The
// dark current of a detector (a base rate plus hot pixels) depends only on
// the seed and the detector, so darks and raws agree; dark frames hold the
// rate in electron/s.
package synth
