package platformdb

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	q := "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
	if got := (&DB{}).Rebind(q); got != q {
		t.Errorf("SQLite: %q", got)
	}
	if got, want := (&DB{Postgres: true}).Rebind(q), "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"; got != want {
		t.Errorf("Postgres: %q, want %q", got, want)
	}
}

func TestRetryBusy(t *testing.T) {
	busy := errors.New("database is locked (5) (SQLITE_BUSY)")
	other := errors.New("no such table: x")
	ctx := context.Background()
	tests := []struct {
		name      string
		errs      []error // f's results, in turn; the last repeats
		timeout   time.Duration
		want      error
		wantCalls int
	}{
		{"no error", []error{nil}, time.Second, nil, 1},
		{"busy twice, then done", []error{busy, busy, nil}, time.Second, nil, 3},
		{"another error is not retried", []error{other}, time.Second, other, 1},
		{"busy past the timeout", []error{busy}, 50 * time.Millisecond, busy, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := RetryBusy(ctx, tt.timeout, func() error {
				e := tt.errs[min(calls, len(tt.errs)-1)]
				calls++
				return e
			})
			if !errors.Is(err, tt.want) && err != tt.want {
				t.Errorf("RetryBusy = %v, want %v", err, tt.want)
			}
			if tt.wantCalls > 0 && calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			if tt.wantCalls == 0 && calls < 2 {
				t.Errorf("%d calls while busy, want retries until the timeout", calls)
			}
		})
	}
	if IsBusy(nil) || IsBusy(other) || !IsBusy(busy) {
		t.Error("IsBusy misjudges")
	}
}
