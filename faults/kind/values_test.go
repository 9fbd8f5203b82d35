package kind

import "testing"

func TestBitRate(t *testing.T) {
	cases := []struct {
		in   string
		want BitRate
		str  string
	}{
		{"1mbit", 1_000_000, "1mbit"},
		{"1.5mbit", 1_500_000, "1500kbit"},
		{"500kbit", 500_000, "500kbit"},
		{"2gbit", 2_000_000_000, "2gbit"},
		{"64bit", 64, "64bit"},
		{"1MBit", 1_000_000, "1mbit"},
		{"0bit", 0, "0bit"},
	}
	for _, tc := range cases {
		b, err := ParseBitRate(tc.in)
		if err != nil || b != tc.want || b.String() != tc.str {
			t.Errorf("ParseBitRate(%q) = %d (%s), %v; want %d (%s)", tc.in, b, b, err, tc.want, tc.str)
		}
	}
	for _, bad := range []string{"1mbps", "1MB", "fast", "-1mbit", "mbit"} {
		if _, err := ParseBitRate(bad); err == nil {
			t.Errorf("ParseBitRate(%q) accepted", bad)
		}
	}
}
