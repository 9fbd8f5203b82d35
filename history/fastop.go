package history

import (
	"bytes"
	"encoding/json"
)

// opDecoder decodes one history line into an Op. Most lines are exactly what
// the recorder writes (json.Encoder's compact output, plain ASCII strings),
// and for those a direct scan is about ten times faster than encoding/json
// and shares repeated strings (keys, node names, errors). Anything else, an
// escaped string, a float, a field spelled in another case, is handed to
// encoding/json, so the result is always exactly what encoding/json with
// DisallowUnknownFields gives: FuzzDecodeOp holds the two to that.
type opDecoder struct {
	strs map[string]string
}

// maxInterned bounds the shared strings, so that a history with a fresh key
// per operation (ledger writes) cannot grow the table without limit.
const maxInterned = 1 << 16

func newOpDecoder() *opDecoder { return &opDecoder{strs: make(map[string]string, 1024)} }

// decode fills op from the JSON object in b (one trimmed line).
func (d *opDecoder) decode(b []byte, op *Op) error {
	if d.fast(b, op) {
		return nil
	}
	*op = Op{}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(op)
}

// intern returns b as a string, shared with earlier equal strings.
func (d *opDecoder) intern(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.strs) < maxInterned {
		d.strs[s] = s
	}
	return s
}

// constant returns b as a string, without hashing for the event types and
// operation kinds every line carries.
func (d *opDecoder) constant(b []byte) string {
	switch string(b) {
	case "invoke":
		return string(Invoke)
	case "ok":
		return string(OK)
	case "fail":
		return string(Fail)
	case "info":
		return string(Info)
	case "read":
		return string(Read)
	case "write":
		return string(Write)
	case "cas":
		return string(CAS)
	case "final_read":
		return string(FinalRead)
	}
	return d.intern(b)
}

// scanner walks one line for the fast path; any surprise makes it give up.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\r' || s.b[s.i] == '\n') {
		s.i++
	}
}

// eat consumes c after optional white space.
func (s *scanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string with no escapes and only printable ASCII.
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// int reads a JSON integer of at most 18 digits (no overflow possible).
func (s *scanner) int() (int64, bool) {
	s.ws()
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	start := s.i
	var v int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		v = v*10 + int64(s.b[s.i]-'0')
		s.i++
	}
	n := s.i - start
	if n == 0 || n > 18 || (n > 1 && s.b[start] == '0') {
		return 0, false
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// fast decodes the common form of a line, or reports false.
func (d *opDecoder) fast(b []byte, op *Op) bool {
	*op = Op{}
	s := scanner{b: b}
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return s.end()
	}
	for {
		name, ok := s.str()
		if !ok || !s.eat(':') || !d.field(&s, string(name), op) {
			return false
		}
		if s.eat('}') {
			return s.end()
		}
		if !s.eat(',') {
			return false
		}
	}
}

// end accepts only trailing white space after the object.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// field reads one member's value into op.
func (d *opDecoder) field(s *scanner, name string, op *Op) bool {
	switch name {
	case "index", "process", "time":
		v, ok := s.int()
		if !ok {
			return false
		}
		switch name {
		case "index":
			op.Index = v
		case "time":
			op.Time = v
		default:
			if int64(int(v)) != v {
				return false
			}
			op.Process = int(v)
		}
		return true
	}
	v, ok := s.str()
	if !ok {
		return false
	}
	switch name {
	case "type":
		op.Type = Type(d.constant(v))
	case "f":
		op.F = Func(d.constant(v))
	case "key":
		op.Key = d.intern(v)
	case "value":
		op.Value = string(v)
	case "from":
		op.From = string(v)
	case "node":
		op.Node = d.intern(v)
	case "error":
		op.Error = d.intern(v)
	default:
		return false
	}
	return true
}
