package columnar

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// runTasks runs tasks 0..n-1 on up to GOMAXPROCS goroutines. Each
// goroutine gets its own task function from newWorker (so it can keep
// reused buffers) and claims tasks in order until none is left or one
// failed. The error returned is that of the first failing task in task
// order among those that ran.
func runTasks(n int, newWorker func() func(i int) error) error {
	errs := make([]error, n)
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task := newWorker()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := task(i); err != nil {
					errs[i] = err
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
