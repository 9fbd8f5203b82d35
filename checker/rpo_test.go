package checker

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
)

// TestRPO checks lost-write counts and windows on hand-made histories.
//
// rpo-lost: kill at 10.0 (healed 15.0), partition at 20.0 (healed 25.0).
// Acknowledged ledger writes (ack time): 0-1 8.0 read back; 0-2 9.2 absent;
// 1-1 9.6 read back "other"; 0-3 12.0 absent; 1-2 16.0 read back; 0-4 21.0
// absent; 1-3 26.0 absent. 0-5 failed and 1-4 timed out: both absent, and
// neither is lost, since neither was acknowledged. So 5 writes are lost.
// Window of the kill: writes lost in (start, 15.0] are 0-2, 1-1, 0-3, the
// earliest acknowledged at 9.2, so 10.0 − 9.2 = 0.8 s. Window of the
// partition: lost in (15.0, 25.0] is 0-4 at 21.0, after the fault: 0. 1-3
// was acknowledged after every heal and counts only in the count.
//
// rpo-unread: 0-1..0-4 acknowledged at 1, 2, 3, 4; final reads: 0-1 and
// 0-2 absent (lost), 0-3 timed out (unread), 0-4 read back. Kill at 5.0
// healed 6.0: window 5.0 − 1.0 = 4 s.
func TestRPO(t *testing.T) {
	for _, tc := range []struct {
		name, fixture string
		count         *int
		window        *time.Duration
		want          Result
		lost          []string
		unread        []string
		windows       []time.Duration
		detail        string
	}{
		{
			name: "none lost", fixture: "rpo-none-lost", count: num(0), window: dur(0),
			want: Pass, windows: []time.Duration{0},
		},
		{
			name: "lost counted exactly", fixture: "rpo-lost", count: num(0),
			want:    Fail,
			lost:    []string{"ledger-0-2", "ledger-1-1", "ledger-0-3", "ledger-0-4", "ledger-1-3"},
			windows: []time.Duration{800 * time.Millisecond, 0},
			detail:  `5 acknowledged ledger writes lost: ledger-0-2, ledger-1-1 (read "other"), ledger-0-3, ledger-0-4, ledger-1-3`,
		},
		{
			name: "lost within count target", fixture: "rpo-lost", count: num(5),
			want: Pass, lost: []string{"ledger-0-2", "ledger-1-1", "ledger-0-3", "ledger-0-4", "ledger-1-3"},
			windows: []time.Duration{800 * time.Millisecond, 0},
		},
		{
			name: "window within target", fixture: "rpo-lost", window: dur(time.Second),
			want: Pass, lost: []string{"ledger-0-2", "ledger-1-1", "ledger-0-3", "ledger-0-4", "ledger-1-3"},
			windows: []time.Duration{800 * time.Millisecond, 0},
		},
		{
			name: "window over target", fixture: "rpo-lost", window: dur(500 * time.Millisecond),
			want: Fail, lost: []string{"ledger-0-2", "ledger-1-1", "ledger-0-3", "ledger-0-4", "ledger-1-3"},
			windows: []time.Duration{800 * time.Millisecond, 0},
		},
		{
			name: "final read failed", fixture: "rpo-unread", count: num(5),
			want: Unknown, lost: []string{"ledger-0-1", "ledger-0-2"}, unread: []string{"ledger-0-3"},
			windows: []time.Duration{4 * time.Second},
			detail:  "1 acknowledged ledger keys have no ok final read: ledger-0-3",
		},
		{
			name: "final read failed, but already over target", fixture: "rpo-unread", count: num(1),
			want: Fail, lost: []string{"ledger-0-1", "ledger-0-2"}, unread: []string{"ledger-0-3"},
			windows: []time.Duration{4 * time.Second},
		},
		{
			name: "final read failed, no target", fixture: "rpo-unread",
			want: Pass, lost: []string{"ledger-0-1", "ledger-0-2"}, unread: []string{"ledger-0-3"},
			windows: []time.Duration{4 * time.Second}, detail: "no target; 2 acknowledged ledger writes lost",
		},
		{
			name: "no final read", fixture: "rpo-no-final-read", count: num(0),
			want: Unknown, unread: []string{"ledger-0-1", "ledger-0-2"}, detail: "no final read",
		},
		{
			name: "empty history", fixture: "empty", count: num(0), window: dur(0), want: Pass,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := RPO(load(t, tc.fixture), tc.count, tc.window, Options{})
			var lost []string
			for _, w := range r.Lost {
				lost = append(lost, w.Key)
			}
			if !slices.Equal(lost, tc.lost) || !slices.Equal(r.Unread, tc.unread) {
				t.Errorf("lost %v unread %v, want lost %v unread %v", lost, r.Unread, tc.lost, tc.unread)
			}
			if !slices.Equal(r.Windows, tc.windows) {
				t.Errorf("windows %v, want %v", r.Windows, tc.windows)
			}
			c := r.Check
			if c.Result != tc.want {
				t.Errorf("result %q (%s), want %q", c.Result, c.Detail, tc.want)
			}
			if value(c.Value) != float64(len(tc.lost)) {
				t.Errorf("value %v, want %d", value(c.Value), len(tc.lost))
			}
			if want := seconds(int64(slices.Max(append(tc.windows, 0)))); value(c.WindowSeconds) != want {
				t.Errorf("window_seconds %v, want %v", value(c.WindowSeconds), want)
			}
			if !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("detail %q does not contain %q", c.Detail, tc.detail)
			}
		})
	}
}

// TestRPOWindowZeroTarget checks that "rpo_window: 0s" fails on any lost
// write, even one acknowledged after its fault began (window 0).
func TestRPOWindowZeroTarget(t *testing.T) {
	in := load(t, "rpo-lost")
	// One long fault from 5.0 to 30.0: every lost write was acknowledged
	// after it was requested.
	in.Faults = []history.Fault{{ID: 0, Kind: "partition", Requested: sec(5), Healed: sec(30)}}
	r := RPO(in, nil, dur(0), Options{})
	if value(r.Check.WindowSeconds) != 0 || r.Check.Result != Fail {
		t.Errorf("window %v result %q, want window 0 and fail", value(r.Check.WindowSeconds), r.Check.Result)
	}
}

// TestRPOWindowValue pins the exact seconds written to verdict.json.
func TestRPOWindowValue(t *testing.T) {
	c := RPO(load(t, "rpo-lost"), num(0), nil, Options{}).Check
	if value(c.WindowSeconds) != 0.8 || value(c.Value) != 5 || value(c.Target) != 0 || c.Unit != "writes" {
		t.Errorf("got %+v", c)
	}
}
