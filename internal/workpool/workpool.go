// Package workpool runs numbered tasks on a bounded number of goroutines:
// the one worker pool that winnow's readers, id index and selection engine
// share.
//
// Tasks are handed out in increasing order through an atomic counter, so a
// task that must come before another is claimed first; each task writes
// only state it owns, which keeps every result independent of the number
// of workers and of the schedule. The calling goroutine works too.
//
// The package does not queue, prioritise or cancel work in flight: a task
// that must stop early checks its own context.
package workpool

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers resolves a requested worker count: 0 or less means one per
// processor (runtime.GOMAXPROCS).
func Workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// Do calls fn(task) for every task in [0, tasks) on up to workers
// goroutines (Workers(workers) of them) and returns when all are done.
func Do(workers, tasks int, fn func(task int)) {
	_ = Run(workers, tasks, func() func(int) error {
		return func(t int) error {
			fn(t)
			return nil
		}
	})
}

// Run runs tasks [0, tasks) on up to workers goroutines (Workers(workers)
// of them). Each goroutine gets its own task function from newWorker, so it
// can keep buffers that it reuses from task to task. Once a task fails, no
// further task is started; the error returned is that of the failing task
// with the lowest number among those that ran, so a caller that reads a
// table in task order reports the first bad part, whatever the schedule.
func Run(workers, tasks int, newWorker func() func(task int) error) error {
	if tasks <= 0 {
		return nil
	}
	w := min(Workers(workers), tasks)
	if w == 1 {
		task := newWorker()
		for t := range tasks {
			if err := task(t); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		next   atomic.Int64
		failed atomic.Bool
		mu     sync.Mutex
		first  = -1
		ferr   error
		wg     sync.WaitGroup
	)
	loop := func() {
		task := newWorker()
		for !failed.Load() {
			t := int(next.Add(1) - 1)
			if t >= tasks {
				return
			}
			if err := task(t); err != nil {
				mu.Lock()
				if first < 0 || t < first {
					first, ferr = t, err
				}
				mu.Unlock()
				failed.Store(true)
			}
		}
	}
	wg.Add(w - 1)
	for range w - 1 {
		go func() {
			defer wg.Done()
			loop()
		}()
	}
	loop()
	wg.Wait()
	return ferr
}
