package checker

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRTO checks RTO on hand-made histories whose recovery time is known by
// construction. Times below are seconds since the run's start; "ok 12.2→12.5"
// is a write invoked at 12.2 and acknowledged at 12.5. The settle window is
// the default 1 s.
func TestRTO(t *testing.T) {
	for _, tc := range []struct {
		name, fixture string
		faults        string // fault fixture when not fixture's own
		end           float64
		opt           Options
		target        *time.Duration
		want          Result
		perFault      []time.Duration // exact; -1 = unbounded, -2 = unknown
		value         float64         // -1 = null
		detail        string          // a substring of Detail
	}{
		{
			// delay at 10.0; one write a second, all ok: writes after t_f
			// settle at once, so the fault caused no outage.
			name: "no outage", fixture: "rto-no-outage", end: 15, target: dur(5 * time.Second),
			want: Pass, perFault: []time.Duration{0}, value: 0,
		},
		{
			// kill at 10.0; fail 10.1, fail 10.6, info 11.1→12.1 (timeout),
			// then ok 12.2→12.5 and ok writes to the end (15.0).
			// t_r = 12.5, RTO = 2.5 s.
			name: "clean outage", fixture: "rto-clean", end: 15, target: dur(5 * time.Second),
			want: Pass, perFault: []time.Duration{2500 * time.Millisecond}, value: 2.5,
		},
		{
			name: "clean outage over target", fixture: "rto-clean", end: 15, target: dur(2 * time.Second),
			want: Fail, perFault: []time.Duration{2500 * time.Millisecond}, value: 2.5, detail: "RTO 2.500s > target 2s",
		},
		{
			// partition at 10.0, never healed; writes fail every 0.5 s from
			// 10.1 to 14.1, then one ok 14.5→14.6; the run ends at 15.0, so
			// that success run lasts 0.4 s < settle: no recovery.
			name: "no recovery before the end", fixture: "rto-unbounded", end: 15, target: dur(5 * time.Second),
			want: Fail, perFault: []time.Duration{-1}, value: -1, detail: "no recovery before the run ended (outage 1 of 1, after the fault took effect: from 10.000s, first failed write 10.100s)",
		},
		{
			name: "unbounded without a target still passes", fixture: "rto-unbounded", end: 15,
			want: Pass, perFault: []time.Duration{-1}, value: -1, detail: "no target; ",
		},
		{
			// kill at 10.0; fail 10.1, 10.6; ok 11.0→11.05, ok 11.5→11.55
			// (a burst lasting 11.05→12.0 = 0.95 s < settle, merged); fail
			// 12.0, 12.5; ok 13.0→13.2 then ok to the end at 16.0.
			// t_r = 13.2, RTO = 3.2 s.
			name: "flapping", fixture: "rto-flapping", end: 16, target: dur(5 * time.Second),
			want: Pass, perFault: []time.Duration{3200 * time.Millisecond}, value: 3.2,
		},
		{
			// With a settle window of 0.9 s the same burst counts as the
			// recovery: outage 1 is 10.0→11.05. The failures from 12.0
			// are then a second outage (the kill is healed at 12.8, so the
			// window is open), 12.0→13.2, and the longer: RTO 1.2 s.
			name: "flapping, short settle", fixture: "rto-flapping", end: 16, opt: Options{Settle: 900 * time.Millisecond},
			want: Pass, perFault: []time.Duration{1200 * time.Millisecond}, value: 1.2,
		},
		{
			// kill at 10.0; fails until 13.1, ok 13.5→13.7, 14.0, 14.5; the
			// run ends at 14.7: the last success run lasts exactly 1 s, the
			// settle window, and counts. RTO = 3.7 s.
			name: "success run cut by the end, long enough", fixture: "rto-settle-at-end", end: 14.7,
			want: Pass, perFault: []time.Duration{3700 * time.Millisecond}, value: 3.7,
		},
		{
			name: "success run cut by the end, too short", fixture: "rto-settle-at-end", end: 14.69, target: dur(time.Minute),
			want: Fail, perFault: []time.Duration{-1}, value: -1,
		},
		{
			// kill at 10.0; info 10.1→11.1, info 10.2→11.2, 11.2→never:
			// indeterminate writes are the outage; ledger writes ok from
			// 11.5→11.6 to the end at 14.0. RTO = 1.6 s.
			name: "indeterminate writes are an outage", fixture: "rto-indeterminate", end: 14, target: dur(5 * time.Second),
			want: Pass, perFault: []time.Duration{1600 * time.Millisecond}, value: 1.6,
		},
		{
			// kill at 10.0: fail 10.0, 10.5, 11.0, ok 11.5→11.51 on.
			// delay at 20.0: every write ok. Value is the larger.
			name: "two faults", fixture: "rto-two-faults", end: 25, target: dur(5 * time.Second),
			want: Pass, perFault: []time.Duration{1510 * time.Millisecond, 0}, value: 1.51,
		},
		{
			// pause at 10.0; writes ok every 0.5 s, and between them a CAS
			// that fails with 412 (contention, not an outage). A 412 is a
			// served answer (history.Precondition), so the writes settle at
			// once: RTO 0, where counting the 412s would make it unbounded.
			name: "412 CAS are not an outage", fixture: "rto-cas-contention", end: 15.5, target: dur(5 * time.Second),
			want: Pass, perFault: []time.Duration{0}, value: 0,
		},
		{
			name: "only disruptive kinds", fixture: "rto-two-faults", end: 25, opt: Options{Disruptive: DisruptiveKinds("delay")},
			want: Pass, perFault: []time.Duration{0}, value: 0,
		},
		{
			name: "no disruptive fault", fixture: "rto-two-faults", end: 25, target: dur(time.Second),
			opt:  Options{Disruptive: DisruptiveKinds("pause")},
			want: Pass, perFault: []time.Duration{}, value: -1, detail: "no disruptive fault",
		},
		{
			// partition of follower n3 at 10.0, healed at 20.0 (the etcd 3.4
			// case: the follower deposes the leader when it rejoins). Writes
			// every 0.2 s: fail 10.2, 10.4, ok 10.6→10.76 on (outage 1, 0.76
			// s); fail 20.2 to 22.2, ok 22.4→22.56 on (outage 2, 2.36 s).
			// The fault's RTO is the longer, the second.
			name: "second outage after the heal is longer", fixture: "rto-heal-longer", end: 26, target: dur(2 * time.Second),
			want: Fail, perFault: []time.Duration{2360 * time.Millisecond}, value: 2.36,
			detail: "RTO 2.360s > target 2s (outage 2 of 2, after the heal: from 20.200s",
		},
		{
			// kill at 10.0, restarted (healed) at 15.0: outage 1 10.0→12.56
			// (2.56 s); at the rejoin fail 15.2, 15.4, ok 15.6→15.76 (0.56
			// s). A blip at 18.2 comes after the window closed (16.0).
			name: "short second outage after the heal", fixture: "rto-heal-short", end: 20, target: dur(5 * time.Second),
			want: Pass, perFault: []time.Duration{2560 * time.Millisecond}, value: 2.56,
		},
		{
			// kill at 10.0, healed at 13.0: outage 1 10.0→11.56, then every
			// write from 13.2 to the end (16.0) fails.
			name: "unrecovered second outage", fixture: "rto-heal-unrecovered", end: 16, target: dur(5 * time.Second),
			want: Fail, perFault: []time.Duration{-1}, value: -1,
			detail: "no recovery before the run ended (outage 2 of 2, after the heal: from 13.200s",
		},
		{
			name: "no writes after the fault", fixture: "empty", faults: "rto-clean", end: 15, target: dur(5 * time.Second),
			want: Unknown, perFault: []time.Duration{-2}, value: -1, detail: "no write invoked after the fault",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := load(t, tc.fixture, cmp.Or(tc.faults, tc.fixture))
			in.End = sec(tc.end)
			r := RTO(in, tc.target, tc.opt)
			var got []time.Duration
			for _, f := range r.Faults {
				switch {
				case f.Unbounded:
					got = append(got, -1)
				case f.NoWrites:
					got = append(got, -2)
				default:
					got = append(got, f.RTO)
				}
			}
			if !slices.Equal(got, tc.perFault) && !(len(got) == 0 && len(tc.perFault) == 0) {
				t.Errorf("per-fault RTO = %v, want %v", got, tc.perFault)
			}
			c := r.Check
			if c.Result != tc.want || value(c.Value) != tc.value || c.Unbounded != (tc.value == -1 && slices.Contains(tc.perFault, -1)) {
				t.Errorf("check = %q value %v unbounded %v, want %q value %v", c.Result, value(c.Value), c.Unbounded, tc.want, tc.value)
			}
			if len(c.PerFault) != len(tc.perFault) {
				t.Errorf("per_fault has %d entries, want %d", len(c.PerFault), len(tc.perFault))
			}
			if !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("detail %q does not contain %q", c.Detail, tc.detail)
			}
		})
	}
}

// TestRTOOutages checks every outage a fault caused, with its instants and
// cause, on the fixtures of TestRTO (whose comments give the times).
func TestRTOOutages(t *testing.T) {
	type o struct {
		start, firstFailed, end float64 // end -1: unrecovered
		cause                   OutageCause
	}
	for _, tc := range []struct {
		fixture string
		end     float64
		want    []o
	}{
		{"rto-no-outage", 15, nil},
		{"rto-flapping", 16, []o{{10, 10.1, 13.2, CauseEffect}}},
		{"rto-heal-longer", 26, []o{{10, 10.2, 10.76, CauseEffect}, {20.2, 20.2, 22.56, CauseHeal}}},
		{"rto-heal-short", 20, []o{{10, 10.2, 12.56, CauseEffect}, {15.2, 15.2, 15.76, CauseHeal}}},
		{"rto-heal-unrecovered", 16, []o{{10, 10.2, 11.56, CauseEffect}, {13.2, 13.2, -1, CauseHeal}}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			in := load(t, tc.fixture)
			in.End = sec(tc.end)
			got := RTO(in, nil, Options{}).Faults[0].Outages
			if len(got) != len(tc.want) {
				t.Fatalf("%d outages %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				end, length := int64(0), time.Duration(0)
				if w.end >= 0 {
					end, length = sec(w.end), time.Duration(sec(w.end)-sec(w.start))
				}
				if g.Start != sec(w.start) || g.FirstFailed != sec(w.firstFailed) || g.End != end ||
					g.Length != length || g.Unrecovered != (w.end < 0) || g.Cause != w.cause {
					t.Errorf("outage %d = %+v, want %+v", i+1, g, w)
				}
			}
		})
	}
}

// TestRTOOutagesInVerdict checks the rto check's JSON: value and per_fault
// as before, and each fault's outages in seconds with their cause.
func TestRTOOutagesInVerdict(t *testing.T) {
	in := load(t, "rto-heal-unrecovered", "rto-heal-unrecovered")
	in.End = sec(16)
	b, err := json.Marshal(RTO(in, nil, Options{}).Check)
	if err != nil {
		t.Fatal(err)
	}
	want := `"value":null,"unit":"seconds","per_fault":[null],"outages":[[` +
		`{"start":10,"end":11.56,"length":1.56,"first_failed":10.2,"cause":"effect"},` +
		`{"start":13.2,"end":null,"length":null,"first_failed":13.2,"cause":"heal","unbounded":true}]],"unbounded":true`
	if !strings.Contains(string(b), want) {
		t.Errorf("rto check JSON\n%s\ndoes not contain\n%s", b, want)
	}
	in = load(t, "rto-heal-longer")
	in.End = sec(26)
	rep := Run(t.Context(), in, Targets{}, Options{})
	if f := rep.Faults[0]; len(f.Outages) != 2 || *f.Outages[1].Length != 2.36 || f.Outages[1].Cause != CauseHeal || *f.RTO != 2.36 {
		t.Errorf("fault report %+v, want two outages, the second 2.36 s after the heal", f)
	}
}
