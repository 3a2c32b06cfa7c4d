package strategies

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// workerCount resolves Problem.Workers: 0 or less means all cores.
func workerCount(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return w
}

// parallel runs fn(task) for task in [0, tasks) on up to workers
// goroutines (the caller's goroutine included). Tasks are handed out in order
// through an atomic counter; fn must only write state owned by its task, which
// keeps every result independent of the number of workers and the schedule.
func parallel(workers, tasks int, fn func(task int)) {
	if workers > tasks {
		workers = tasks
	}
	if workers <= 1 {
		for t := 0; t < tasks; t++ {
			fn(t)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	run := func() {
		for {
			t := int(next.Add(1) - 1)
			if t >= tasks {
				return
			}
			fn(t)
		}
	}
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			run()
		}()
	}
	run()
	wg.Wait()
}

// chunks splits [0, n) into ranges of about size elements.
func chunks(n, size int) int {
	if n <= 0 {
		return 0
	}
	return (n + size - 1) / size
}

// parallelCtx is parallel that stops handing out tasks once ctx is done
// and then returns ctx's error.
func parallelCtx(ctx context.Context, workers, tasks int, fn func(task int)) error {
	parallel(workers, tasks, func(t int) {
		if ctx.Err() != nil {
			return
		}
		fn(t)
	})
	return ctx.Err()
}
