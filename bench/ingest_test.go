package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/datastore"
	"github.com/skybutler/skybutler/lib/dimensions"
)

// sourceFiles are tiny local "raw" files, created on demand and shared by
// the sub-benchmarks of one run: file k is dataset k of nthDataset.
type sourceFiles struct {
	dir   string
	batch int
	made  int // files created so far
}

func (s *sourceFiles) path(k int) string {
	exp, det := nthDataset(k)
	return filepath.Join(s.dir, fmt.Sprintf("b%05d", k/s.batch), fmt.Sprintf("spx_%07d_%d.fits", exp, det))
}

// ensure creates the files of the first n batches.
func (s *sourceFiles) ensure(n int) error {
	for k := s.made; k < n*s.batch; k++ {
		p := s.path(k)
		if k%s.batch == 0 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
		}
		exp, det := nthDataset(k)
		// 80 bytes, one FITS card: the content only feeds the checksum.
		card := fmt.Sprintf("%-80s", fmt.Sprintf("SIMPLE  =                    T / exposure %d detector %d", exp, det))
		if err := os.WriteFile(p, []byte(card), 0o644); err != nil {
			return err
		}
		s.made = k + 1
	}
	return nil
}

// ingestBatches prepares the IngestFile lists of batches [0, n): each file
// brings the day_obs, group and exposure records of its exposure, as
// ingest-raws derives them from the header (that translation is not timed).
func ingestBatches(fx *fixture, src *sourceFiles, n int) ([][]butler.IngestFile, error) {
	out := make([][]butler.IngestFile, n)
	lastExp, lastRecs := int64(-1), []dimensions.Record(nil)
	for i := range n {
		batch := make([]butler.IngestFile, 0, src.batch)
		for k := i * src.batch; k < (i+1)*src.batch; k++ {
			exp, det := nthDataset(k)
			if exp != lastExp { // files come exposure by exposure
				r, err := fx.records(fx.exposure(exp))
				if err != nil {
					return nil, err
				}
				lastExp, lastRecs = exp, r
			}
			batch = append(batch, butler.IngestFile{Source: src.path(k), DatasetType: fx.datasetType.Name,
				DataID: fx.dataID(exp, det), Run: fx.run1, Records: lastRecs})
		}
		out[i] = batch
	}
	return out, nil
}

// BenchmarkIngestDirect measures metadata-only ingest: raw files registered
// in place (--transfer direct: the registry records their URI, size and
// sha256; nothing is copied) into a repository on the file store, in
// batches of SKYBUTLER_BENCH_INGEST_BATCH (default 1000) files per Ingest
// call. One iteration is one batch; the repository grows across iterations
// (with -benchtime 200x, 200,000 datasets).
//
// Peer: SQLite with daf_butler's schema, the same rows (dimension records,
// dataset, tags, datastore record; the same sha256 of each file) in one
// transaction per batch.
func BenchmarkIngestDirect(b *testing.B) {
	ctx := context.Background()
	fx := newFixture(b)
	src := &sourceFiles{dir: b.TempDir(), batch: envInt(b, "SKYBUTLER_BENCH_INGEST_BATCH", 1000)}
	var skyRate, peerRate, skyCPURate, peerCPURate float64
	var skyFiles, peerFiles int

	b.Run("skybutler", func(b *testing.B) {
		if err := src.ensure(b.N); err != nil {
			b.Fatal(err)
		}
		batches, err := ingestBatches(fx, src, b.N)
		if err != nil {
			b.Fatal(err)
		}
		bt, err := newSkyRepo(ctx, b.TempDir(), fx, []string{fx.run1}, nil)
		if err != nil {
			b.Fatal(err)
		}
		lat := make([]time.Duration, b.N)
		b.ResetTimer()
		c0 := cpuTime()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			res, err := bt.Ingest(ctx, batches[i], butler.IngestOptions{Transfer: butler.TransferDirect})
			if err != nil {
				b.Fatal(err)
			}
			lat[i] = time.Since(t0)
			if len(res.Ingested) != len(batches[i]) {
				b.Fatalf("batch %d: ingested %d of %d (skipped %d)", i, len(res.Ingested), len(batches[i]), len(res.Skipped))
			}
		}
		b.StopTimer()
		cpu := cpuTime() - c0
		files := b.N * src.batch
		skyRate, skyFiles, skyCPURate = float64(files)/b.Elapsed().Seconds(), files, float64(files)/cpu.Seconds()
		b.ReportMetric(skyRate, "files/s")
		b.ReportMetric(ms(lat[0]), "ms/first-batch")
		b.ReportMetric(ms(lat[b.N-1]), "ms/last-batch")
		b.ReportMetric(float64(files)/cpu.Seconds(), "files/cpu-s")
	})

	b.Run("sqlite-daf_butler", func(b *testing.B) {
		if err := src.ensure(b.N); err != nil {
			b.Fatal(err)
		}
		batches, err := ingestBatches(fx, src, b.N)
		if err != nil {
			b.Fatal(err)
		}
		p, err := createPeer(ctx, filepath.Join(b.TempDir(), "gen3.sqlite3"), fx, []string{fx.run1}, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer p.close()
		lat := make([]time.Duration, b.N)
		b.ResetTimer()
		c0 := cpuTime()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if err := peerIngest(ctx, p, fx, batches[i]); err != nil {
				b.Fatal(err)
			}
			lat[i] = time.Since(t0)
		}
		b.StopTimer()
		cpu := cpuTime() - c0
		files := b.N * src.batch
		peerRate, peerFiles, peerCPURate = float64(files)/b.Elapsed().Seconds(), files, float64(files)/cpu.Seconds()
		b.ReportMetric(peerRate, "files/s")
		b.ReportMetric(ms(lat[0]), "ms/first-batch")
		b.ReportMetric(ms(lat[b.N-1]), "ms/last-batch")
		b.ReportMetric(float64(files)/cpu.Seconds(), "files/cpu-s")
	})

	if skyRate > 0 && peerRate > 0 {
		sideBySide("ingest direct (metadata only, batches of %d): skybutler %.0f files/s (%d files), sqlite-daf_butler %.0f files/s (%d files), ratio skybutler/sqlite = %.3f (>1: skybutler faster); per CPU-second: skybutler %.0f, sqlite-daf_butler %.0f files, ratio %.3f",
			src.batch, skyRate, skyFiles, peerRate, peerFiles, skyRate/peerRate, skyCPURate, peerCPURate, skyCPURate/peerCPURate)
	}
}

// peerIngest is the daf_butler side of one ingest batch: checksum each file
// (direct transfer records it in place), then one transaction inserting
// the dimension records it brings, the dataset, its tag row and its
// datastore record.
func peerIngest(ctx context.Context, p *peerRepo, fx *fixture, files []butler.IngestFile) error {
	ds := make([]datasetInfo, len(files))
	for i, f := range files {
		fh, err := os.Open(f.Source)
		if err != nil {
			return err
		}
		sum, n, err := datastore.ChecksumReader(fh)
		fh.Close()
		if err != nil {
			return err
		}
		exp, det := f.DataID["exposure"].(int64), f.DataID["detector"].(int64)
		ds[i] = datasetInfo{id: fx.datasetID(f.Run, exp, det), exposure: exp, detector: det,
			uri: "file://" + f.Source, checksum: sum, size: n}
	}
	return p.tx(ctx, func(tx *sqlTx) error {
		ins, err := p.prepareInsert(ctx, tx)
		if err != nil {
			return err
		}
		defer ins.close()
		for i, f := range files {
			if err := ins.records(ctx, fx, fx.exposure(ds[i].exposure)); err != nil {
				return err
			}
			if err := ins.dataset(ctx, fx, f.Run, ds[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
