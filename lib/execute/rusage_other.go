//go:build !linux

package execute

func usage() (float64, int64) { return 0, 0 }
