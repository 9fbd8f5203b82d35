#!/bin/sh
# engines.sh: a test bed of extra Docker engines on this machine, so that
# hadrill's multi-engine clusters (cluster.engines) and Swarm bookkeeping can
# be tested without touching the main engine's Swarm state.
#
#   scripts/engines.sh up [NAME...]     start engines (default: "second")
#   scripts/engines.sh down [NAME...]   stop them and remove everything (default: all)
#   scripts/engines.sh status
#
# Each engine is a dockerd with its own data root, exec root, socket, pidfile
# and cgroup parent, running in a network namespace hadrill-NAME that this
# script creates. The namespaces hang off a bridge inside one more namespace
# (hadrill-hub), and the host joins that bridge through one veth pair, so the
# host and every engine share 10.213.0.0/24: the host is 10.213.0.1, the
# engines .2, .3, ... The host's own firewall is not touched, and the only
# traffic goes between this machine and the namespaces created here.
#
# Each engine carries the label hadrill.publish-ip=<its address>: hadrill
# publishes node ports there, and reaches them from the host at that address.
# Each engine is also a docker context of the same name, which is how
# `--set cluster.engines=[local,second]` finds it.
set -eu

RUN=/run/hadrill-engines
DATA=/var/lib/hadrill-engines
NET=10.213.0
HUB=hadrill-hub
HOSTIF=hdr-eng0

log() { echo "engines: $*" >&2; }

hub_up() {
	if ip netns list | grep -qx "$HUB\( .*\)\?"; then return; fi
	ip netns add "$HUB"
	ip -n "$HUB" link set lo up
	ip -n "$HUB" link add br0 type bridge
	ip -n "$HUB" link set br0 up
	ip link add "$HOSTIF" type veth peer name host netns "$HUB"
	ip -n "$HUB" link set host master br0 up
	ip addr add "$NET.1/24" dev "$HOSTIF"
	ip link set "$HOSTIF" up
}

hub_down() {
	ip link del "$HOSTIF" 2>/dev/null || true
	ip netns del "$HUB" 2>/dev/null || true
}

# free_index prints the first host number (2..250) no engine uses.
free_index() {
	i=2
	while grep -qsx "$NET.$i" "$RUN"/*/ip; do i=$((i + 1)); done
	echo "$i"
}

engine_up() {
	name=$1
	dir=$RUN/$name
	if [ -s "$dir/docker.pid" ] && kill -0 "$(cat "$dir/docker.pid")" 2>/dev/null; then
		log "$name already up at $(cat "$dir/ip")"
		return
	fi
	mkdir -p "$dir" "$DATA/$name"
	i=$(free_index)
	ip=$NET.$i
	echo "$ip" >"$dir/ip"
	ns=hadrill-$name
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$HUB" link add "e$i" type veth peer name eth0 netns "$ns"
	ip -n "$HUB" link set "e$i" master br0 up
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set eth0 up
	echo '{}' >"$dir/daemon.json"
	setsid nsenter --net="/run/netns/$ns" dockerd \
		--config-file "$dir/daemon.json" \
		--data-root "$DATA/$name" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
		--host "unix://$dir/docker.sock" --storage-driver fuse-overlayfs \
		--cgroup-parent "hadrill-$name" --mtu 1400 --label "hadrill.publish-ip=$ip" \
		>"$dir/dockerd.log" 2>&1 9>&- &
	for _ in $(seq 1 120); do
		if docker -H "unix://$dir/docker.sock" info >/dev/null 2>&1; then break; fi
		sleep 0.5
	done
	if ! docker -H "unix://$dir/docker.sock" info >/dev/null 2>&1; then
		log "$name did not start; see $dir/dockerd.log"
		tail -5 "$dir/dockerd.log" >&2
		return 1
	fi
	docker context rm -f "$name" >/dev/null 2>&1 || true
	docker context create "$name" --description "hadrill test bed engine at $ip" \
		--docker "host=unix://$dir/docker.sock" >/dev/null
	log "$name up: context $name, socket unix://$dir/docker.sock, address $ip"
}

engine_down() {
	name=$1
	dir=$RUN/$name
	ns=hadrill-$name
	if [ -s "$dir/docker.pid" ]; then
		pid=$(cat "$dir/docker.pid")
		if kill "$pid" 2>/dev/null; then
			for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	# Mounts the engine left (fuse-overlayfs layers, netns files) go before
	# the folders.
	for m in $(awk -v d="$DATA/$name" -v r="$dir" '$2 ~ "^"d || $2 ~ "^"r {print $2}' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	docker context rm -f "$name" >/dev/null 2>&1 || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$dir" "$DATA/$name"
	log "$name down"
}

names_up() {
	ls "$RUN" 2>/dev/null || true
}

# status needs no lock, but taking it is harmless.

cmd=${1:-status}
[ $# -gt 0 ] && shift
# Two test beds started at once (go test -p 2) must not pick the same
# address or tear down the hub under each other.
mkdir -p "$RUN"
exec 9>"$RUN.lock"
flock 9

case $cmd in
up)
	[ $# -eq 0 ] && set -- second
	mkdir -p "$RUN" "$DATA"
	hub_up
	for n in "$@"; do engine_up "$n"; done
	;;
down)
	[ $# -eq 0 ] && set -- $(names_up)
	for n in "$@"; do engine_down "$n"; done
	if [ -z "$(names_up)" ]; then
		hub_down
		rmdir "$RUN" "$DATA" 2>/dev/null || true
	fi
	;;
status)
	for n in $(names_up); do
		dir=$RUN/$n
		state=down
		docker -H "unix://$dir/docker.sock" info >/dev/null 2>&1 && state=up
		echo "$n $(cat "$dir/ip" 2>/dev/null) unix://$dir/docker.sock $state"
	done
	;;
*)
	echo "usage: $0 up [NAME...] | down [NAME...] | status" >&2
	exit 2
	;;
esac
