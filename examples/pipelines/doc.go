// Package pipelines holds the example task classes and pipelines of
// skybutler: a SPHEREx-like three-task pipeline (spherex.yaml) and two
// generic tasks for tests and benchmarks. Register adds the classes to the
// pipeline package's task registry; the CLI calls it.
//
// # Terms
//
//   - IsrTask (skybutler.examples.IsrTask): instrument signature removal,
//     reduced to dark subtraction. Per (instrument, exposure, detector) it
//     reads the raw exposure and, with doDark, the master dark (a
//     calibration prerequisite valid at the exposure's time) and writes
//     postISRCCD = raw - darkScale * f * dark, where f converts the dark
//     to the raw's units and exposure (see IsrTask.Run).
//   - MeasureTask (skybutler.examples.MeasureTask): a thresholding peak
//     finder. It estimates the background (median) and noise (1.4826 x the
//     median absolute deviation) of postISRCCD and writes sourceTable, one
//     row per local maximum above background + threshold x noise: detector,
//     x, y (flux-weighted centroid, pixels from 0), flux (background-
//     subtracted sum in a (2 radius + 1)^2 box) and peak.
//   - SummarizeTask (skybutler.examples.SummarizeTask): the fan-in. Per
//     (instrument, exposure) it reads the sourceTable of every detector
//     (a Multiple input) and writes exposureSummary, one row per detector:
//     detector, n_sources, mean_flux.
//   - NoOpTask (skybutler.examples.NoOpTask): connections declared in its
//     config (pipeline.DeclaredConnections); writes a minimal object to
//     every output. For measuring framework overhead.
//   - FailTask (skybutler.examples.FailTask): NoOpTask that fails for the
//     data IDs in failOn and reports no_work for those in noWorkOn. For
//     testing failure handling.
//
// The pipelines use the dimensions of the default universe
// (schemas/dimensions.yaml): instrument, exposure, detector.
package pipelines
