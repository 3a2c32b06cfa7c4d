package workpool

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

func TestDoRunsEveryTaskOnce(t *testing.T) {
	for _, workers := range []int{0, 1, 2, 7, 100} {
		for _, tasks := range []int{0, 1, 5, 1000} {
			counts := make([]int32, tasks)
			Do(workers, tasks, func(i int) { atomic.AddInt32(&counts[i], 1) })
			for i, c := range counts {
				if c != 1 {
					t.Fatalf("workers %d, tasks %d: task %d ran %d times", workers, tasks, i, c)
				}
			}
		}
	}
}

func TestRunReportsLowestFailingTask(t *testing.T) {
	for _, workers := range []int{1, 2, 8} {
		err := Run(workers, 100, func() func(int) error {
			return func(i int) error {
				if i >= 40 && i%7 == 0 {
					return fmt.Errorf("task %d", i)
				}
				return nil
			}
		})
		// Tasks are claimed in order, so 42 (the first failing one) always
		// runs; later failures may run too, but never win.
		if err == nil || err.Error() != "task 42" {
			t.Fatalf("workers %d: got %v, want task 42", workers, err)
		}
	}
}

func TestRunStopsAfterFailure(t *testing.T) {
	var ran atomic.Int64
	boom := errors.New("boom")
	err := Run(1, 1000, func() func(int) error {
		return func(i int) error {
			ran.Add(1)
			if i == 3 {
				return boom
			}
			return nil
		}
	})
	if !errors.Is(err, boom) || ran.Load() != 4 {
		t.Fatalf("got %v after %d tasks, want boom after 4", err, ran.Load())
	}
}

func TestRunGivesEachWorkerItsOwnState(t *testing.T) {
	var made atomic.Int64
	err := Run(4, 64, func() func(int) error {
		made.Add(1)
		var own []int // must never be shared between goroutines
		return func(i int) error {
			own = append(own, i)
			return nil
		}
	})
	if err != nil || made.Load() > 4 || made.Load() < 1 {
		t.Fatalf("err %v, %d workers made", err, made.Load())
	}
}

func TestWorkers(t *testing.T) {
	if Workers(3) != 3 || Workers(0) < 1 || Workers(-1) < 1 {
		t.Fatal("Workers resolves counts wrongly")
	}
}
