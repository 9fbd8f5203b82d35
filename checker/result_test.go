package checker

import (
	"encoding/json"
	"testing"
)

func TestMerge(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Result
		want Result
	}{
		{"nothing checked passes", nil, Pass},
		{"all pass", []Result{Pass, Pass}, Pass},
		{"unknown beats pass", []Result{Pass, Unknown, Pass}, Unknown},
		{"fail beats unknown", []Result{Unknown, Fail, Pass}, Fail},
		{"fail first", []Result{Fail, Unknown}, Fail},
		{"garbage is unknown", []Result{Pass, Result("crashed")}, Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Merge(tc.in...); got != tc.want {
				t.Errorf("Merge(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestCheckJSON pins the verdict.json forms of DESIGN.md, and the unbounded
// and detail extensions.
func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Check
		want string
	}{
		{"rto", Check{Result: Pass, Value: f64(2.41), Target: f64(5), Unit: "seconds", PerFault: []*float64{f64(2.41)}},
			`{"result":"pass","value":2.41,"target":5,"unit":"seconds","per_fault":[2.41]}`},
		{"rpo zeros are written", Check{Result: Pass, Value: f64(0), Target: f64(0), Unit: "writes", WindowSeconds: f64(0)},
			`{"result":"pass","value":0,"target":0,"unit":"writes","window_seconds":0}`},
		{"availability", Check{Result: Pass, Value: f64(0.957), Target: f64(0.90), Unit: "ratio"},
			`{"result":"pass","value":0.957,"target":0.9,"unit":"ratio"}`},
		{"linearizability", Check{Result: Pass}, `{"result":"pass"}`},
		{"unbounded rto", Check{Result: Fail, Target: f64(5), Unit: "seconds", PerFault: []*float64{f64(1), nil}, Unbounded: true, Detail: "fault 1: no recovery"},
			`{"result":"fail","value":null,"target":5,"unit":"seconds","per_fault":[1,null],"unbounded":true,"detail":"fault 1: no recovery"}`},
		{"rto over no faults", Check{Result: Pass, Unit: "seconds", PerFault: []*float64{}},
			`{"result":"pass","unit":"seconds","per_fault":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("got  %s\nwant %s", b, tc.want)
			}
			var back Check
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			again, _ := json.Marshal(back)
			if string(again) != tc.want {
				t.Errorf("round trip: got %s", again)
			}
		})
	}
}
