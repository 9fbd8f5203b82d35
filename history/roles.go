package history

// RoleSample is one line of roles.jsonl: what the system said about who is
// primary at one moment of the run, sampled about once a second by the
// runner from the system's own answer (cluster.PrimaryFinder and
// ClaimReporter). It is the one record of "who is primary" that the progress
// line, the live metrics and the report's primary panel all read, so that a
// leaderless store (where every member acknowledges writes) and a split
// brain (where two nodes claim the role) both show as they are.
type RoleSample struct {
	// Time is when the sample was taken, in ns since the run's start.
	Time int64 `json:"time"`
	// Primary is the system's answer ("" when none holds the role).
	Primary string `json:"primary,omitempty"`
	// Claims are each node's own view, when the system can be asked.
	Claims []RoleClaim `json:"claims,omitempty"`
}

// RoleClaim is one node's view of its role in a RoleSample.
type RoleClaim struct {
	Node string `json:"node"`
	// Role is what the node says it is, with the role-holder always written
	// "primary" whatever the system calls it ("standby", "follower" and
	// "replica" for the others), or "" when it could not be asked.
	Role string `json:"role,omitempty"`
	// Epoch is the node's term or epoch, when the system has one.
	Epoch uint64 `json:"epoch,omitempty"`
	// Error says why the node could not be asked.
	Error string `json:"error,omitempty"`
}

// Claimants lists the nodes that claim the primary role in the sample:
// more than one is a split brain (or a deposed primary that has not yet
// noticed).
func (s RoleSample) Claimants() []string {
	var out []string
	for _, c := range s.Claims {
		if c.Role == "primary" {
			out = append(out, c.Node)
		}
	}
	return out
}
