package results

import (
	"encoding/xml"
	"fmt"
	"sort"
	"strings"

	"github.com/hadrill/hadrill/checker"
)

// JUnit is the subset of the JUnit XML schema that CI systems (Jenkins,
// GitLab, GitHub test reporters) read: one suite per run, one case per check.
type JUnit struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is one run of one scenario.
type JUnitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      float64     `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []JUnitCase `xml:"testcase"`
}

// JUnitCase is one check. An unknown result is reported as skipped with the
// reason, so that CI neither passes it silently nor calls it a failure of
// the system.
type JUnitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *JUnitMessage `xml:"failure,omitempty"`
	Skipped   *JUnitMessage `xml:"skipped,omitempty"`
}

// JUnitMessage is a failure or skip reason.
type JUnitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// Suite turns a verdict into a JUnit suite.
func Suite(v *Verdict) JUnitSuite {
	s := JUnitSuite{
		Name:      fmt.Sprintf("hadrill.%s", v.Scenario),
		Time:      v.DurationSeconds,
		Timestamp: v.Started.UTC().Format("2006-01-02T15:04:05"),
	}
	names := make([]string, 0, len(v.Checks))
	for n := range v.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := v.Checks[n]
		tc := JUnitCase{Name: n, Classname: s.Name}
		msg := &JUnitMessage{Message: string(c.Result), Body: checkText(c)}
		switch c.Result {
		case checker.Fail:
			tc.Failure = msg
			s.Failures++
		case checker.Unknown:
			tc.Skipped = msg
			s.Skipped++
		}
		s.Cases = append(s.Cases, tc)
	}
	s.Tests = len(s.Cases)
	return s
}

// MarshalJUnit renders suites as one JUnit document.
func MarshalJUnit(suites ...JUnitSuite) ([]byte, error) {
	doc := JUnit{Suites: suites}
	for _, s := range suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
		doc.Time += s.Time
	}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode junit: %w", err)
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

// WriteJUnit writes junit.xml for one run.
func WriteJUnit(dir RunDir, v *Verdict) error {
	b, err := MarshalJUnit(Suite(v))
	if err != nil {
		return err
	}
	return WriteFileAtomic(dir.File(JUnitFile), b)
}

func checkText(c checker.Check) string {
	var parts []string
	if c.Value != nil {
		parts = append(parts, fmt.Sprintf("value %g %s", *c.Value, c.Unit))
	}
	if c.Target != nil {
		parts = append(parts, fmt.Sprintf("target %g %s", *c.Target, c.Unit))
	}
	if c.Detail != "" {
		parts = append(parts, c.Detail)
	}
	return strings.Join(parts, "; ")
}
