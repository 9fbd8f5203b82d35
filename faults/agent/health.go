package agent

import "runtime"

// What the node can do, and whether it is back to normal: the two questions
// the harness asks before and after a run.

// Capabilities probes (once) and reports what this node supports.
func (a *Agent) Capabilities() Capabilities {
	kinds := a.qdiscKinds()
	c := Capabilities{
		Nftables: a.nfOK, NFQueue: a.nfq, Netem: kinds["netem"], HTB: kinds["htb"], TBF: kinds["tbf"],
		Fuse: a.disk != nil, FuseDir: a.cfg.FuseData, CgroupCPU: cgroupCPU(), CPUs: runtime.NumCPU(), CPULimit: nodeCPUs(),
		Process: a.sup != nil, Kinds: Kinds(), DelayMechanism: "nfqueue",
	}
	if a.diskErr != nil {
		c.FuseError = a.diskErr.Error()
	}
	if a.sup != nil {
		c.PID = a.sup.current()
	}
	if a.faketime != nil && a.faketime.err == nil {
		c.Faketime = a.faketime.lib
	}
	if c.Netem && c.HTB {
		c.DelayMechanism = "netem"
	}
	return c
}

// qdiscKinds returns the probed qdisc support, probing on first use.
func (a *Agent) qdiscKinds() map[string]bool {
	a.probeOnce.Do(func() {
		var err error
		if a.qdiscs, err = qdiscSupport(); err != nil {
			a.log.Warn("probe qdiscs", "err", err)
			a.qdiscs = map[string]bool{}
		}
		a.nfOK = a.nft.probe()
		a.nfq = probeNFQueue()
	})
	return a.qdiscs
}

// verify checks that nothing of the agent's is left in effect.
func (a *Agent) verify() Verification {
	var v Verification
	var err error
	if v.NftTableGone, err = a.nft.tableGone(); err != nil {
		v.Problems = append(v.Problems, err.Error())
	} else if !v.NftTableGone {
		v.Problems = append(v.Problems, "nftables table "+tableName+" still exists")
	}
	if v.QdiscsRestored, err = shapingGone(); err != nil {
		v.Problems = append(v.Problems, err.Error())
	} else if !v.QdiscsRestored {
		v.Problems = append(v.Problems, "an agent qdisc is still installed")
	}
	v.DiskUnblocked = a.disk == nil || a.disk.idle()
	if !v.DiskUnblocked {
		v.Problems = append(v.Problems, "the data folder is hooked or does not answer")
	}
	v.ResourcesReleased = a.burners.Load() == 0 && a.mapped.Load() == 0
	if !v.ResourcesReleased {
		v.Problems = append(v.Problems, "cpu burners or memory allocations remain")
	}
	v.ProcessRunning = a.processRunning()
	if !v.ProcessRunning {
		v.Problems = append(v.Problems, "the supervised process is not running")
	}
	v.OK = len(v.Problems) == 0
	return v
}

// processRunning is true when there is no process to supervise, the agent is
// stopping, or the process runs and is not stopped.
func (a *Agent) processRunning() bool {
	if a.sup == nil || a.sup.isClosing() {
		return true
	}
	pid := a.sup.current()
	if pid == 0 {
		return false
	}
	st, err := procState(pid)
	return err == nil && st != "T"
}
