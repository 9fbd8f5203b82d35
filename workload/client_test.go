package workload

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
)

// TestRouter checks the node choice of one operation: hints are followed,
// unreachable nodes skipped, indeterminate errors never retried, attempts
// bounded, and the node returned is the one the last attempt went to.
func TestRouter(t *testing.T) {
	indeterminate := errors.New("reset after send")
	tests := []struct {
		name      string
		answer    map[string]error // node -> its answer; absent means ok
		guess     string
		home      string   // the client's home node
		read      bool     // a read starts at home
		homeDown  bool     // after the op, reads avoid home for a while
		want      string   // node returned
		tried     []string // nodes attempted, in order
		wantType  history.Type
		nextGuess string // where the next operation starts; "" = not checked
	}{
		{name: "guess is primary", guess: "n2", want: "n2", tried: []string{"n2"}, wantType: history.OK},
		{name: "follow hint", answer: map[string]error{"n1": &NotPrimaryError{Node: "n1", Primary: "n3"}},
			want: "n3", tried: []string{"n1", "n3"}, wantType: history.OK},
		{name: "skip unreachable", answer: map[string]error{"n1": ErrUnreachable},
			want: "n2", tried: []string{"n1", "n2"}, wantType: history.OK},
		// A paused or partitioned primary times out: this operation is not
		// retried, but the next one starts elsewhere instead of timing out
		// on the same node for as long as the fault lasts.
		{name: "no retry after indeterminate, next op moves on", answer: map[string]error{"n1": indeterminate},
			want: "n1", tried: []string{"n1"}, wantType: history.Info, nextGuess: "n2"},
		{name: "no retry after 412, next op stays", answer: map[string]error{"n1": ErrPrecondition},
			want: "n1", tried: []string{"n1"}, wantType: history.Fail, nextGuess: "n1"},
		// Reads start at the client's home, so a standby serving stale
		// reads, or a second primary, is read from.
		{name: "read starts at home and keeps the guess", guess: "n1", home: "n3", read: true,
			want: "n3", tried: []string{"n3"}, wantType: history.OK, nextGuess: "n1"},
		{name: "read at a refusing home follows its hint", guess: "n1", home: "n2", read: true,
			answer: map[string]error{"n2": &NotPrimaryError{Node: "n2", Primary: "n1"}},
			want:   "n1", tried: []string{"n2", "n1"}, wantType: history.OK, nextGuess: "n1"},
		{name: "read at a dead home backs off from it", guess: "n1", home: "n3", read: true,
			answer: map[string]error{"n3": ErrUnreachable},
			want:   "n1", tried: []string{"n3", "n1"}, wantType: history.OK, homeDown: true},
		{name: "write ignores home", guess: "n1", home: "n3",
			want: "n1", tried: []string{"n1"}, wantType: history.OK},
		{name: "hint to a dead node, attempts run out", answer: map[string]error{
			"n1": &NotPrimaryError{Node: "n1", Primary: "n2"},
			"n2": ErrUnreachable,
			"n3": &NotPrimaryError{Node: "n3", Primary: "n2"},
		}, want: "n2", tried: []string{"n1", "n2", "n3", "n2", "n3", "n2"}, wantType: history.Fail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := router{kv: newScriptKV("n1", "n2", "n3"), guess: tc.guess, home: tc.home}
			var tried []string
			node, err := r.do(context.Background(), tc.read, func(n string) error {
				tried = append(tried, n)
				return tc.answer[n]
			})
			if got := Classify(err, true); got != tc.wantType {
				t.Errorf("class = %s, want %s (%v)", got, tc.wantType, err)
			}
			if node != tc.want || node != tried[len(tried)-1] {
				t.Errorf("returned %s, want %s, the node of the last attempt (%v)", node, tc.want, tried)
			}
			if !slices.Equal(tried, tc.tried) {
				t.Errorf("tried %v, want %v", tried, tc.tried)
			}
			if down := time.Now().Before(r.homeDown); down != tc.homeDown {
				t.Errorf("home backed off = %v, want %v", down, tc.homeDown)
			}
			if tc.nextGuess != "" && r.guess != tc.nextGuess {
				t.Errorf("next operation starts at %q, want %q", r.guess, tc.nextGuess)
			}
		})
	}
}
