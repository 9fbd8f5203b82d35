package kind

// The declarations of every fault kind, container kinds first. A kind is
// added here and in its implementation file (an injector in package faults
// for a container kind; an applier registered by the agent for an agent
// kind); tests fail when one of the two is missing.

type ps = []Param

var (
	dur     = ps{ParamDuration}
	durPct  = ps{ParamDuration, ParamPercent}
	restart = ps{ParamRestartAfter}
)

// Container kinds: the Docker API on the node's container.
var (
	// Kill SIGKILLs the node and starts it again later.
	Kill = declare(Decl{Name: "kill", Mechanism: "Docker API: SIGKILL the container (the agent kills the process first, when the node runs one)", Level: LevelContainer, Optional: restart,
		Doc: "SIGKILL the node's process and container; start it again after restart_after, or when the run ends"})
	// Stop stops the node gracefully and starts it again later.
	Stop = declare(Decl{Name: "stop", Mechanism: "Docker API: stop with a timeout", Level: LevelContainer, Optional: ps{ParamRestartAfter, ParamGrace},
		Defaults: map[Param]string{ParamGrace: "10s"},
		Doc:      "stop the container with SIGTERM and SIGKILL after grace; start it again after restart_after, or when the run ends"})
	// Pause freezes the node's container.
	Pause = declare(Decl{Name: "pause", Mechanism: "Docker API: pause (cgroup freezer)", Level: LevelContainer, Required: dur,
		Doc: "freeze the container (Docker pause) for duration"})
)

// Agent kinds: the node agent, from inside the node's namespaces.
var (
	// Partition cuts the cluster into sides that cannot talk.
	Partition = declare(Decl{Name: "partition", Mechanism: "nftables drop rules against the other sides' addresses", Level: LevelAgent, Required: dur, Target: TargetSides,
		Doc: "drop traffic between the sides for duration (nftables)"})
	// Loss drops a share of packets.
	Loss = declare(Decl{Name: "loss", Mechanism: "nftables `numgen random` drops; the agent counts packets seen and dropped", Level: LevelAgent, Required: durPct,
		Doc: "drop percent of the node's packets at random for duration"})
	// Delay holds packets back.
	Delay = declare(Decl{Name: "delay", Mechanism: "tc netem where the kernel has it, otherwise NFQUEUE with a userspace delay (detected, not assumed)", Level: LevelAgent, Required: ps{ParamDuration, ParamDelay}, Optional: ps{ParamJitter},
		Doc: "delay the node's packets by delay ± jitter for duration"})
	// Bandwidth limits throughput.
	Bandwidth = declare(Decl{Name: "bandwidth", Mechanism: "htb + tbf, with only the targeted traffic classified into the limit", Level: LevelAgent, Required: ps{ParamDuration, ParamRate},
		Doc: "limit the node's bandwidth to rate (like 1mbit) for duration"})
	// DiskStall blocks the data folder's I/O.
	DiskStall = declare(Decl{Name: "disk-stall", Mechanism: "a FUSE layer over the data folder blocks every I/O operation", Level: LevelAgent, Required: dur, Disk: true,
		Doc: "block all I/O on the node's data folder for duration"})
	// DiskSlow slows the data folder's I/O.
	DiskSlow = declare(Decl{Name: "disk-slow", Mechanism: "the FUSE layer adds latency to each operation", Level: LevelAgent, Required: ps{ParamDuration, ParamDelay}, Disk: true,
		Doc: "add delay to every I/O operation on the node's data folder for duration"})
	// DiskError fails writes with EIO.
	DiskError = declare(Decl{Name: "disk-error", Mechanism: "the FUSE layer fails write and fsync with EIO", Level: LevelAgent, Required: dur, Disk: true,
		Doc: "fail every write and fsync on the node's data folder with EIO for duration"})
	// CPU burns the node's CPU.
	CPU = declare(Decl{Name: "cpu", Mechanism: "busy threads inside the node's container", Level: LevelAgent, Required: durPct,
		Doc: "burn percent of the node's CPU for duration"})
	// Memory takes the node's memory.
	Memory = declare(Decl{Name: "memory", Mechanism: "allocate and touch memory inside the node's container", Level: LevelAgent, Required: ps{ParamDuration, ParamMiB},
		Doc: "allocate and touch mib MiB inside the node's container for duration"})
	// DNS breaks name resolution.
	DNS = declare(Decl{Name: "dns", Mechanism: "nftables drops DNS traffic, so lookups time out", Level: LevelAgent, Required: dur,
		Doc: "make name resolution fail inside the node for duration"})
	// Crash kills the node's process from inside the node.
	Crash = declare(Decl{Name: "crash", Mechanism: "SIGKILL of the supervised process group; restarted by the agent", Level: LevelAgent, Optional: restart,
		Doc: "SIGKILL the node's process from inside the node; start it again after restart_after, or when the run ends"})
	// Sigstop freezes the node's process.
	Sigstop = declare(Decl{Name: "sigstop", Mechanism: "SIGSTOP of the supervised process group, SIGCONT at heal", Level: LevelAgent, Required: dur,
		Doc: "SIGSTOP the node's process and SIGCONT it after duration"})
	// PowerLoss kills the node's process and loses what was not fsynced.
	PowerLoss = declare(Decl{Name: "power-loss", Mechanism: "SIGKILL of every process of the node, then the FUSE layer's journal rolls back what the disk would not hold", Level: LevelAgent, Optional: restart, Disk: true,
		Doc: "SIGKILL every process of the node and roll its data folder back as a power cut leaves an ext4 disk: file data not fsynced is lost; creates, renames and removals are lost unless an fsync of any file or folder (or the 5 s journal commit) came after them; start it again after restart_after, or when the run ends"})
	// DiskFull makes the data folder full.
	DiskFull = declare(Decl{Name: "disk-full", Mechanism: "the FUSE layer answers ENOSPC", Level: LevelAgent, Required: dur, Optional: ps{ParamPercent, ParamMiB},
		OneOf: ps{ParamPercent, ParamMiB}, Disk: true,
		Doc: "answer writes that need new space with ENOSPC for duration: at once, after mib more MiB, or once the disk is percent full"})
	// Corrupt damages packets.
	Corrupt = declare(Decl{Name: "corrupt", Mechanism: "NFQUEUE: a byte of each chosen packet is changed", Level: LevelAgent, Required: durPct,
		Doc: "flip a bit in percent of the node's packets for duration (receivers drop them on the checksum)"})
	// Duplicate sends packets twice.
	Duplicate = declare(Decl{Name: "duplicate", Mechanism: "NFQUEUE: the chosen packets are sent twice", Level: LevelAgent, Required: durPct,
		Doc: "send percent of the node's packets twice for duration"})
	// Reorder lets later packets overtake earlier ones.
	Reorder = declare(Decl{Name: "reorder", Mechanism: "NFQUEUE: the chosen packets are held back", Level: LevelAgent, Required: durPct, Optional: ps{ParamDelay},
		Defaults: map[Param]string{ParamDelay: "10ms"},
		Doc:      "hold back percent of the node's packets by delay, so later ones overtake them, for duration"})
	// Clock shifts the node's wall clock.
	Clock = declare(Decl{Name: "clock", Mechanism: "libfaketime preloaded into the node's process, driven by the agent", Level: LevelAgent, Required: dur, Optional: ps{ParamOffset, ParamClockRate},
		AnyOf: ps{ParamOffset, ParamClockRate}, Preloads: "a server that libfaketime can preload into (LD_PRELOAD)",
		Doc: "shift the node's wall clock by offset and/or make it run at clock_rate for duration (libfaketime)"})
)
