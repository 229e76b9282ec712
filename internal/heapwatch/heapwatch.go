// Package heapwatch measures the most heap a benchmark uses, for the
// memory targets benchmarks report (b.ReportMetric).
package heapwatch

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// Start samples the heap in use (live and not yet collected objects) every
// two milliseconds until the returned function is called, which returns
// the most seen, in bytes.
func Start() (stop func() float64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var mu sync.Mutex
	var most uint64
	read := func() {
		metrics.Read(sample)
		mu.Lock()
		most = max(most, sample[0].Value.Uint64())
		mu.Unlock()
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() float64 {
		close(quit)
		<-done
		read()
		return float64(most)
	}
}

// Bench times body with b.Loop, reporting its allocations, the most heap
// in use while it runs (peak-heap-MB) and the CPU time the process spent
// per op (cpu-s/op: all threads, the collector's included; on a loaded
// machine it varies less than the time).
func Bench(b *testing.B, body func()) {
	runtime.GC() // do not count the setup's garbage
	stop := Start()
	cpu := cpuTime()
	b.ReportAllocs()
	for b.Loop() {
		body()
	}
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(stop()/(1<<20), "peak-heap-MB")
}
