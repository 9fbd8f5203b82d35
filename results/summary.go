package results

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/hadrill/hadrill/results/internal/render"
)

// summaryMaxFaults bounds the fault lines of summary.md, so that a
// scenario with a long random schedule still fits a PR comment.
const summaryMaxFaults = 8

// summaryDetailLen bounds a check's detail in summary.md.
const summaryDetailLen = 140

// WriteSummary writes summary.md into a run folder that holds its
// verdict.json: a header line with the verdict, the checks table, the
// faults and where the full report is, short enough (under 40 lines) to
// post as a pull-request comment from CI.
func WriteSummary(dir RunDir) error {
	v, err := ReadVerdict(dir.Path)
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "### hadrill `%s`: %s\n\n", v.Scenario, strings.ToUpper(string(v.Verdict)))
	fmt.Fprintf(&b, "Seed %d, duration %.1f s, started %s", v.Seed, v.DurationSeconds,
		v.Started.UTC().Format(time.RFC3339))
	if v.System != "" {
		fmt.Fprintf(&b, ", system %s", render.MarkdownCell(v.System))
	}
	if v.Interrupted {
		b.WriteString(", **interrupted**")
	}
	fmt.Fprintf(&b, ". Ops: %d total, %d ok, %d fail, %d info.\n\n", v.Ops.Total, v.Ops.OK, v.Ops.Fail, v.Ops.Info)
	b.WriteString("| check | result | value | target | detail |\n|---|---|---|---|---|\n")
	for _, r := range render.CheckRows(v.Checks) {
		unit := ""
		if r.Unit != "" && r.Unit != "ratio" {
			unit = " " + r.Unit
		}
		target := r.Target
		if target != "–" {
			target += unit
		}
		fmt.Fprintf(&b, "| %s | %s | %s%s | %s | %s |\n", r.Name, r.Result, render.MarkdownCell(r.Value), unit, target,
			render.MarkdownCell(render.Truncate(r.Detail, summaryDetailLen)))
	}
	writeSummaryFaults(&b, v.Faults)
	fmt.Fprintf(&b, "\nFull report: `%s`\n", dir.File(ReportFile))
	return WriteFileAtomic(dir.File(SummaryFile), b.Bytes())
}

// writeSummaryFaults lists the faults, one line each, up to a bound.
func writeSummaryFaults(b *bytes.Buffer, faults []FaultRecord) {
	if len(faults) == 0 {
		b.WriteString("\nNo faults were injected.\n")
		return
	}
	b.WriteString("\nFaults:\n")
	for i, f := range faults {
		if i == summaryMaxFaults {
			fmt.Fprintf(b, "- … and %d more (see the report)\n", len(faults)-i)
			break
		}
		nodes := ""
		if len(f.Nodes) > 0 {
			nodes = " (" + strings.Join(f.Nodes, ", ") + ")"
		}
		fmt.Fprintf(b, "- %s %s%s at %s s, effective %s s, healed %s s", render.MarkdownCell(f.Kind), render.MarkdownCell(f.Target),
			render.MarkdownCell(nodes), render.FormatValue(f.Requested, "seconds"), render.OptSeconds(f.Effective), render.OptSeconds(f.Healed))
		if f.RTO != nil {
			fmt.Fprintf(b, ", RTO %s s", render.FormatValue(*f.RTO, "seconds"))
		}
		if o := f.OutagesText(); o != "" {
			fmt.Fprintf(b, " (outages: %s)", render.MarkdownCell(o))
		}
		if len(f.Errors) > 0 {
			fmt.Fprintf(b, ", **%d error(s)**", len(f.Errors))
		}
		b.WriteString("\n")
	}
}
