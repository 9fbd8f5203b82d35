package checker

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/hadrill/hadrill/history"
)

// BenchmarkLinearizability measures the linearizability check on a generated
// linearizable history of 20,000 operations (16 register keys plus ledger
// keys, 8 concurrent clients), and, in the same run, two baselines over the
// same history: decoding its JSONL and pairing it. All report ops/s
// (operations, not events), so the check's cost can be quoted as a ratio:
//
//	go test ./checker -run '^$' -bench Linearizability -benchtime 10x
func BenchmarkLinearizability(b *testing.B) {
	const n = 20000
	ops := concurrentHistory(42, n, 16, 8)
	var jsonl bytes.Buffer
	enc := json.NewEncoder(&jsonl)
	for _, op := range ops {
		if err := enc.Encode(op); err != nil {
			b.Fatal(err)
		}
	}
	perSecond := func(b *testing.B) {
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	}
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := history.Decode[history.Op](bytes.NewReader(jsonl.Bytes()), "bench"); err != nil {
				b.Fatal(err)
			}
		}
		perSecond(b)
	})
	b.Run("pair", func(b *testing.B) {
		for b.Loop() {
			history.Pair(ops)
		}
		perSecond(b)
	})
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			r := Linearizability(context.Background(), Input{Ops: ops}, true, Options{})
			if r.Check.Result != Pass {
				b.Fatalf("%q: %s", r.Check.Result, r.Check.Detail)
			}
		}
		perSecond(b)
	})
}
