package history

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
)

// Paired is a history read and paired in one pass (ReadOperations).
type Paired struct {
	// Ops are the operations in invocation order.
	Ops []Operation
	// Events counts the events (lines) that were decoded.
	Events int
	// Torn is set when the last line was cut off mid-write and dropped;
	// Warning then says which line, for the caller to print (see Torn).
	Torn    bool
	Warning *Torn
	// Contract is the first breach of the recorder's contract (see
	// Pairer), nil when there was none.
	Contract error
}

// ReadOptions bound what ReadOperations accepts.
type ReadOptions struct {
	// MaxTime, when positive, is the latest time (ns since the run's
	// start) an event may carry; an event outside [0, MaxTime] is an error
	// naming its file and line. It catches histories in another time base
	// (Unix-epoch nanoseconds, say) before anything sizes itself by time.
	MaxTime int64
}

// ErrTimeOutsideRun marks an event whose time lies outside the run.
var ErrTimeOutsideRun = errors.New("time outside the run")

// chunkBytes is how much of the file one decoding task takes; a chunk's
// buffer has chunkSlack more, for the part line carried over from the
// chunk before it.
const (
	chunkBytes = 1 << 20
	chunkSlack = 4 << 10
)

// spare is a paired chunk's buffers, handed back for the splitter and the
// workers to reuse: without them, reading a long history leaves its size
// in garbage twice over (the lines and the decoded events), and the
// collector, which scans the growing pairs on every cycle, pays for it.
type spare struct {
	data  []byte
	ops   []Op
	lines []int
}

// chunk is a run of whole lines, decoded by a worker.
type chunk struct {
	data  []byte
	line  int  // number of the first line
	final bool // the file's last chunk
	ops   []Op
	lines []int // the line of each of ops
	err   error
	// torn is set when the chunk's bad line is cut off before its end and
	// only blank lines follow it in the chunk: it is a torn last line if
	// the chunks after it are blank too, and err (set with it) otherwise.
	torn *Torn
	done chan struct{}
}

// content reports whether the chunk holds anything but blank lines.
func (c *chunk) content() bool { return len(c.ops) > 0 || c.err != nil }

// ReadOperations reads a history.jsonl file, decoding its lines on every
// core and pairing them in order as they arrive, so that the events are
// never held twice. It accepts exactly what Decode accepts: a torn last
// line is dropped (Torn and Warning), any other broken line is a
// *LineError. A breach of the recorder's contract (Contract) is a
// *LineError too, naming the line and field.
func ReadOperations(path string, opt ReadOptions) (Paired, error) {
	f, err := os.Open(path)
	if err != nil {
		return Paired{}, err
	}
	defer f.Close()
	hint := 0
	if st, err := f.Stat(); err == nil {
		hint = int(st.Size() / 200) // about two 100-byte lines per operation
	}
	return readOperations(f, path, hint, opt)
}

// readOperations is ReadOperations on a reader: a splitter cuts the input
// into chunks of whole lines, workers decode them, and this goroutine pairs
// the chunks in file order.
func readOperations(r io.Reader, name string, hint int, opt ReadOptions) (Paired, error) {
	workers := runtime.GOMAXPROCS(0)
	queue := make(chan *chunk, workers)
	ordered := make(chan *chunk, 2*workers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := newOpDecoder()
			for c := range queue {
				c.decode(d, name, opt)
				close(c.done)
			}
		}()
	}
	spares := make(chan spare, 2*workers+2)
	var splitErr error
	go func() {
		defer close(ordered)
		defer close(queue)
		splitErr = split(r, name, queue, ordered, spares, stop)
	}()
	out := Paired{}
	p := NewPairer(hint)
	var err error
	var torn *chunk // a chunk ending in a line that is torn if nothing follows
	for c := range ordered {
		<-c.done
		if err != nil {
			continue // drain, so the splitter and workers can finish
		}
		if torn != nil && c.content() {
			err = torn.err // the cut-off line was not the last
			close(stop)
			continue
		}
		for i := range c.ops {
			p.AddLine(&c.ops[i], c.lines[i])
		}
		out.Events += len(c.ops)
		select {
		case spares <- spare{data: c.data[:0], ops: c.ops[:0], lines: c.lines[:0]}:
		default:
		}
		c.data, c.ops, c.lines = nil, nil, nil
		switch {
		case c.torn != nil:
			torn = c
		case c.err != nil:
			err = c.err
			close(stop)
		}
	}
	wg.Wait()
	if err == nil {
		err = splitErr
	}
	if err == nil && torn != nil {
		out.Torn, out.Warning = true, torn.torn
	}
	out.Ops, out.Contract = p.Result()
	var le *LineError
	if errors.As(out.Contract, &le) {
		le.File = name
	}
	return out, err
}

// split reads r and hands out chunks of whole lines, in order, to both the
// workers and the pairing loop, in buffers taken from spares when there
// are. It stops early when stop closes.
func split(r io.Reader, name string, queue, ordered chan<- *chunk, spares <-chan spare, stop <-chan struct{}) error {
	br := bufio.NewReaderSize(r, chunkBytes)
	line := 1
	var carry []byte
	for {
		var sp spare
		select {
		case sp = <-spares:
		default:
		}
		buf := sp.data
		if cap(buf) < len(carry)+chunkBytes {
			buf = make([]byte, 0, len(carry)+chunkBytes+chunkSlack)
		}
		buf = append(buf[:0], carry...)
		n, rerr := io.ReadFull(br, buf[len(carry):cap(buf)])
		buf = buf[:len(carry)+n]
		final := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !final {
			return fmt.Errorf("read %s: %w", name, rerr)
		}
		carry = nil
		if !final {
			cut := bytes.LastIndexByte(buf, '\n') + 1
			if cut == 0 {
				// A line longer than a chunk: keep reading it.
				carry = buf
				continue
			}
			carry = bytes.Clone(buf[cut:]) // buf goes to a worker, and back to spares
			buf = buf[:cut]
		}
		c := &chunk{data: buf, ops: sp.ops, lines: sp.lines, line: line, final: final, done: make(chan struct{})}
		line += bytes.Count(buf, []byte{'\n'})
		select {
		case ordered <- c:
		case <-stop:
			return nil
		}
		select {
		case queue <- c:
		case <-stop:
			close(c.done)
			return nil
		}
		if final {
			return nil
		}
	}
}

// decode decodes the chunk's lines with d.
func (c *chunk) decode(d *opDecoder, name string, opt ReadOptions) {
	n := bytes.Count(c.data, []byte{'\n'}) + 1
	if cap(c.ops) < n || cap(c.lines) < n {
		n += n / 8 // room for the next chunks' lines, which vary in number
		c.ops, c.lines = make([]Op, 0, n), make([]int, 0, n)
	}
	data, line := c.data, c.line
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n')
		b := data
		if end >= 0 {
			b, data = data[:end], data[end+1:]
		} else {
			data = nil
		}
		if t := bytes.TrimSpace(b); len(t) > 0 {
			// Decoded in place: an Op of its own would escape to the
			// heap, one allocation per line.
			c.ops = append(c.ops, Op{})
			op := &c.ops[len(c.ops)-1]
			if err := d.decode(t, op); err != nil {
				c.ops = c.ops[:len(c.ops)-1]
				c.err = &LineError{File: name, Line: line, Err: err}
				if cutOff(t) && blank(data) {
					c.torn = &Torn{File: name, Line: line}
				}
				break
			}
			if opt.MaxTime > 0 && (op.Time < 0 || op.Time > opt.MaxTime) {
				c.ops = c.ops[:len(c.ops)-1]
				c.err = &LineError{File: name, Line: line, Field: "time", Err: fmt.Errorf(
					"%w: %d ns is not within 0 to %d ns; history times are ns since the run's start",
					ErrTimeOutsideRun, op.Time, opt.MaxTime)}
				break
			}
			c.lines = append(c.lines, line)
		}
		line++
	}
}
