package strategies

import (
	"context"

	"github.com/winnow-data/winnow/internal/workpool"
)

// workerCount resolves Problem.Workers: 0 or less means all cores.
func workerCount(w int) int { return workpool.Workers(w) }

// parallel runs fn(task) for task in [0, tasks) on up to workers
// goroutines (the caller's goroutine included), through the module's one
// worker pool. Tasks are handed out in order; fn must only write state
// owned by its task, which keeps every result independent of the number
// of workers and the schedule.
func parallel(workers, tasks int, fn func(task int)) { workpool.Do(workers, tasks, fn) }

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
