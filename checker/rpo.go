package checker

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hadrill/hadrill/history"
)

// LostWrite is an acknowledged ledger write that the final read phase did
// not find.
type LostWrite struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Observed is what the final read returned: "" when the key was absent.
	Observed string `json:"observed"`
	// Acked is when the write was acknowledged, ns since the run's start.
	Acked int64 `json:"acked_ns"`
}

// RPOResult is the RPO check and the writes behind it.
type RPOResult struct {
	Check Check
	// Acknowledged counts acknowledged ledger writes.
	Acknowledged int
	// Lost lists acknowledged ledger writes read back absent or different,
	// in acknowledgement order.
	Lost []LostWrite
	// Unread lists acknowledged ledger keys that no final read returned ok
	// for: whether they survived is unknown.
	Unread []string
	// Windows is the RPO window per disruptive fault, in fault order.
	Windows []time.Duration
}

// RPO counts acknowledged ledger writes that were lost, and measures the RPO
// window, against count and window targets (either may be nil).
//
// A ledger write (F write on a key with history.LedgerPrefix) acknowledged ok
// is lost when an ok final read (F final_read, one per ledger key) of its key
// observed the key absent or holding another value; when several final
// reads of a key are ok, any one that disagrees makes it lost. An
// acknowledged key with no ok final read is unread: the result is then
// Unknown, unless the writes that are known lost already miss a target.
// Acknowledged ledger writes without any final read op in the history give
// Unknown with "no final read".
//
// The window, for each disruptive fault at t_f, is t_f − (the earliest
// acknowledgement among the lost writes "around" that fault), or 0 when
// none were lost. Faults are taken in order of request, and the writes
// around one are those acknowledged after the previous faults' heal (the
// latest of them, so nested faults do not count a write twice) and no later
// than its own heal (an unhealed fault reaches to the end of time). A
// lost write acknowledged after t_f contributes 0: the window measures how
// far back before the fault data was lost. The reported window is the
// largest over faults. Because of that, a window target of 0 fails on any
// lost write, as "lose nothing" should; other window targets compare the
// window alone. A lost write acknowledged outside every fault's reach counts
// only in the count.
func RPO(in Input, count *int, window *time.Duration, opt Options) RPOResult {
	pairs := in.paired()
	acked := ackedLedger(pairs)
	final, anyFinal := finalReads(pairs)
	var r RPOResult
	r.Acknowledged = len(acked)
	for _, w := range acked {
		seen, ok := final[w.Key]
		switch {
		case !ok:
			r.Unread = append(r.Unread, w.Key)
		case slices.ContainsFunc(seen, func(v string) bool { return v != w.Value }):
			i := slices.IndexFunc(seen, func(v string) bool { return v != w.Value })
			w.Observed = seen[i]
			r.Lost = append(r.Lost, w)
		}
	}
	r.Windows = rpoWindows(in.disruptive(opt), r.Lost)
	r.Check = rpoCheck(r, anyFinal, count, window)
	return r
}

// ackedLedger returns the acknowledged ledger writes in acknowledgement order.
func ackedLedger(pairs []history.Operation) []LostWrite {
	var out []LostWrite
	for i := range pairs {
		p := &pairs[i]
		if p.Invoke.F == history.Write && p.Invoke.IsLedger() && p.Outcome() == history.OK {
			out = append(out, LostWrite{Key: p.Invoke.Key, Value: p.Invoke.Value, Acked: p.Completion.Time})
		}
	}
	byAck := func(a, b LostWrite) int { return cmp.Compare(a.Acked, b.Acked) }
	if !slices.IsSortedFunc(out, byAck) {
		slices.SortStableFunc(out, byAck)
	}
	return out
}

// finalReads maps each key to the values its ok final reads observed, and
// reports whether the history has any final read op at all.
func finalReads(pairs []history.Operation) (map[string][]string, bool) {
	out := map[string][]string{}
	found := false
	for i := range pairs {
		p := &pairs[i]
		if p.Invoke.F != history.FinalRead {
			continue
		}
		found = true
		if p.Outcome() == history.OK {
			out[p.Invoke.Key] = append(out[p.Invoke.Key], p.Completion.Value)
		}
	}
	return out, found
}

// rpoWindows computes the window of each fault (see RPO). lost is in
// acknowledgement order, so the first lost write in a fault's reach is the
// earliest.
func rpoWindows(faults []history.Fault, lost []LostWrite) []time.Duration {
	order := make([]int, len(faults))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(faults[a].Start(), faults[b].Start()) })
	out := make([]time.Duration, len(faults))
	var after int64 = -1 // the latest heal of the faults before; writes must come later
	for _, i := range order {
		reach := faultWindow(faults[i]).to
		for _, w := range lost {
			if w.Acked > after && w.Acked <= reach {
				out[i] = time.Duration(max(0, faults[i].Start()-w.Acked))
				break
			}
		}
		after = max(after, reach)
	}
	return out
}

// rpoCheck judges the count and window against their targets.
func rpoCheck(r RPOResult, anyFinal bool, count *int, window *time.Duration) Check {
	worst := time.Duration(0)
	for _, w := range r.Windows {
		worst = max(worst, w)
	}
	c := Check{
		Value: f64(float64(len(r.Lost))), Unit: "writes", WindowSeconds: f64(seconds(int64(worst))),
		WindowTarget: durationSeconds(window),
	}
	if count != nil {
		c.Target = f64(float64(*count))
	}
	missed := (count != nil && len(r.Lost) > *count) ||
		(window != nil && (worst > *window || (*window == 0 && len(r.Lost) > 0)))
	var notes []string
	if len(r.Lost) > 0 {
		notes = append(notes, describeLost(r.Lost))
	}
	switch {
	case len(r.Unread) > 0 && !anyFinal:
		notes = append(notes, fmt.Sprintf("no final read: %d acknowledged ledger writes were never read back", len(r.Unread)))
	case len(r.Unread) > 0:
		notes = append(notes, fmt.Sprintf("%d acknowledged ledger keys have no ok final read: %s",
			len(r.Unread), listSome(r.Unread, 5)))
	}
	c.Detail = strings.Join(notes, "; ")
	hasTarget := count != nil || window != nil
	switch {
	case missed:
		c.Result = Fail
	case len(r.Unread) > 0:
		c.Result = Unknown
	default:
		c.Result = Pass
	}
	if !hasTarget && c.Result != Pass {
		c.Result, c.Detail = Pass, "no target; "+c.Detail
	}
	return c
}

// describeLost says how many acknowledged writes were lost and names some.
func describeLost(lost []LostWrite) string {
	keys := make([]string, len(lost))
	for i, w := range lost {
		keys[i] = w.Key
		if w.Observed != "" {
			keys[i] += fmt.Sprintf(" (read %q)", w.Observed)
		}
	}
	return fmt.Sprintf("%d acknowledged ledger writes lost: %s", len(lost), listSome(keys, 5))
}

// listSome joins the first n items and says how many more there are.
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
