package scenarios

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"10s", 10 * time.Second, ""},
		{"1m30s", 90 * time.Second, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{"0s", 0, ""},
		{" 2h ", 2 * time.Hour, ""},
		{"10", 0, "duration needs a unit, like 10s"},
		{"0", 0, "duration needs a unit, like 10s"},
		{"1.5", 0, "duration needs a unit, like 10s"},
		{"10x", 0, `invalid duration "10x"`},
		{"", 0, `invalid duration ""`},
		{"ten seconds", 0, `invalid duration "ten seconds"`},
		{"-1s", 0, `duration "-1s" is negative`},
	}
	for _, tc := range cases {
		d, err := ParseDuration(tc.in)
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("ParseDuration(%q) error = %v, want %s", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || d.Std() != tc.want):
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", tc.in, d, err, tc.want)
		}
	}
}

func TestDurationTextRoundTrip(t *testing.T) {
	for _, d := range []Duration{0, sec(0.25), sec(90), Duration(1500 * time.Microsecond), sec(3600)} {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Errorf("%s -> %s -> %s, %v", d, b, back, err)
		}
	}
}

func TestParseRate(t *testing.T) {
	cases := []struct {
		in   string
		want float64
		err  bool
	}{
		{"400/s", 400, false},
		{"400", 400, false},
		{"0.5/s", 0.5, false},
		{"6000/m", 100, false},
		{" 10 / s ", 10, false},
		{"400/h", 0, true},
		{"fast", 0, true},
		{"/s", 0, true},
	}
	for _, tc := range cases {
		r, err := ParseRate(tc.in)
		if (err != nil) != tc.err || r.PerSecond() != tc.want {
			t.Errorf("ParseRate(%q) = %v, %v", tc.in, r, err)
		}
		if err == nil {
			if back, _ := ParseRate(r.String()); back != r {
				t.Errorf("%q: String %q reads back as %v", tc.in, r.String(), back)
			}
		}
	}
}
