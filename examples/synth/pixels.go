package synth

import (
	"math"
	"math/rand/v2"
)

type image struct {
	size int
	pix  []float32
}

// darkMap returns a detector's dark current in electron/s per pixel: its
// base rate with 1% scatter and 0.5% hot pixels. It depends only on the
// seed and the detector.
func darkMap(o Options, det int) []float64 {
	rng := rand.New(rand.NewPCG(o.Seed, uint64(det)<<32|0xda4c))
	n := o.Size * o.Size
	m := make([]float64, n)
	for i := range m {
		m[i] = darkRate[det] * (1 + 0.01*rng.NormFloat64())
		if rng.Float64() < 0.005 {
			m[i] += 0.5 + 4.5*rng.Float64()
		}
	}
	return m
}

// rawPixels simulates one raw readout in ADU.
func rawPixels(o Options, e exposure, det int) image {
	rng := rand.New(rand.NewPCG(o.Seed^uint64(e.id), uint64(det)))
	n := o.Size
	dark := darkMap(o, det)
	sky := 0.0
	if e.imgType == "SCIENCE" {
		sky = zodiRate[det] * (0.9 + 0.2*rng.Float64())
	}
	signal := make([]float64, n*n)
	for i := range signal {
		signal[i] = (dark[i] + sky) * o.ExposureTime
	}
	if e.imgType == "SCIENCE" {
		const sigma = 1.2 // pixels
		for s := 0; s < 6; s++ {
			x0, y0 := rng.Float64()*float64(n), rng.Float64()*float64(n)
			flux := 200 + 5000*rng.Float64()*rng.Float64()
			norm := flux / (2 * math.Pi * sigma * sigma)
			for y := max(0, int(y0)-5); y < min(n, int(y0)+6); y++ {
				for x := max(0, int(x0)-5); x < min(n, int(x0)+6); x++ {
					dx, dy := float64(x)+0.5-x0, float64(y)+0.5-y0
					signal[y*n+x] += norm * math.Exp(-(dx*dx+dy*dy)/(2*sigma*sigma))
				}
			}
		}
	}
	pix := make([]float32, n*n)
	for i, s := range signal {
		noise := math.Sqrt(s+readNois*readNois) * rng.NormFloat64()
		pix[i] = float32(pedestal + (s+noise)/gain)
	}
	return image{size: n, pix: pix}
}

// darkPixels is a master dark: the dark current map with the small noise
// left after combining many frames.
func darkPixels(o Options, epoch, det int) image {
	rng := rand.New(rand.NewPCG(o.Seed^uint64(epoch)<<40, uint64(det)|0xc0ffee<<8))
	dark := darkMap(o, det)
	pix := make([]float32, len(dark))
	for i, d := range dark {
		pix[i] = float32(d + 0.001*rng.NormFloat64())
	}
	return image{size: o.Size, pix: pix}
}
