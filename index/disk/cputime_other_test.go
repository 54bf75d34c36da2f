//go:build !linux

package disk

import "time"

// threadCPU is unavailable outside Linux; benchmarks then report wall time only.
func threadCPU() (time.Duration, bool) { return 0, false }
