package drill

// Phase names one step of a drill. The progress line prints it, run.json
// records when each began, and tools that watch a drill from outside (the
// soak tool, which aims interrupts at phases) read the same list, so a
// phase renamed or added here is renamed or added everywhere.
type Phase string

// The phases of a drill, in the order they run. Stop and teardown also run
// on the way out of a drill that ended early; check runs last even then.
const (
	PhaseBuild       Phase = "build"
	PhaseStart       Phase = "start cluster"
	PhaseWaitPrimary Phase = "wait for primary"
	PhaseLoad        Phase = "load"
	PhaseHeal        Phase = "heal"
	PhaseSettle      Phase = "settle"
	PhaseFinalRead   Phase = "final read"
	PhaseStop        Phase = "stop"
	PhaseTeardown    Phase = "teardown"
	PhaseCheck       Phase = "check"
)

// Phases lists every phase in run order.
var Phases = []Phase{PhaseBuild, PhaseStart, PhaseWaitPrimary, PhaseLoad, PhaseHeal, PhaseSettle,
	PhaseFinalRead, PhaseStop, PhaseTeardown, PhaseCheck}
