package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzDecodeOp holds the fast line decoder to encoding/json: on every line,
// it must give the same Op, or fail where encoding/json fails.
func FuzzDecodeOp(f *testing.F) {
	for _, s := range []string{
		`{"index":0,"process":3,"type":"invoke","f":"write","key":"k7","value":"3-1812","time":1204511000}`,
		`{"index":1,"process":3,"type":"ok","f":"write","key":"k7","value":"3-1812","time":1206032000,"node":"n1"}`,
		`{"index":3,"process":2,"type":"fail","f":"cas","key":"k1","from":"x","value":"2-1","time":40,"error":"precondition failed"}`,
		`{"Index":1,"TIME":2}`, `{"index":1.0}`, `{"index":-0}`, `{"index":01}`, `{"key":"a\"b"}`, `{"key":"é"}`,
		`{"index":99999999999999999999}`, `{"colour":1}`, `{}`, `{"index":1}x`, ` { "index" : 1 } `, `{"value":null}`,
		`{"process":9223372036854775807}`, `[]`, `{"index":1,}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var want Op
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		werr := dec.Decode(&want)
		var got Op
		gerr := newOpDecoder().decode(line, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: encoding/json says %v, the fast decoder %v", line, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: encoding/json gives %+v, the fast decoder %+v", line, want, got)
		}
	})
}

// FuzzReadOperations holds the parallel reader to Decode followed by Pair
// on whole files: same operations, same torn flag, an error on the same line.
func FuzzReadOperations(f *testing.F) {
	good := `{"index":0,"process":0,"type":"invoke","f":"read","key":"k","time":1}` + "\n" +
		`{"index":1,"process":0,"type":"ok","f":"read","key":"k","value":"v","time":2}` + "\n"
	for _, s := range []string{good, good + `{"index":2,"pro`, good + `{"index":2,"pro` + "\n\n", good + `{"index":2,"pro` + "\n" + good,
		good + "{broken\n" + good, good + `{"index":2,"colour":1}`, "\n\n" + good + "\n", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ops, torn, werr := Decode[Op](bytes.NewReader(data), "h.jsonl")
		got, gerr := readOperations(bytes.NewReader(data), "h.jsonl", 0, ReadOptions{})
		var wl, gl *LineError
		switch {
		case (werr == nil) != (gerr == nil):
			t.Fatalf("Decode: %v, ReadOperations: %v", werr, gerr)
		case werr != nil && errors.As(werr, &wl) != errors.As(gerr, &gl):
			t.Fatalf("Decode: %v, ReadOperations: %v", werr, gerr)
		case wl != nil && (wl.Line != gl.Line || !strings.HasPrefix(gerr.Error(), "h.jsonl:")):
			t.Fatalf("Decode: %v, ReadOperations: %v", werr, gerr)
		case werr != nil:
			return
		case !reflect.DeepEqual(torn, got.Warning) || got.Torn != (torn != nil) || got.Events != len(ops) || !reflect.DeepEqual(Pair(ops), got.Ops):
			t.Fatalf("Decode: %d events, torn %v; ReadOperations: %d events, torn %v", len(ops), torn, got.Events, got.Warning)
		}
	})
}
