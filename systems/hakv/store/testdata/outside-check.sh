#!/usr/bin/env bash
# The lead's outside check of hakv, by hand: build bin/hakv, start three
# processes on 127.0.0.1 with default timings, write 300 keys, SIGKILL the
# primary, expect a new primary within failover-timeout + 1.5 s and all 300
# keys readable there. TestOutsideCheck is the same check as a Go test.
#
# usage: systems/hakv/store/testdata/outside-check.sh       (from anywhere; needs go, curl)
# env:   BASE=port of n1 (n2, n3 follow), EXTRA="--replication=sync ..."
set -euo pipefail
cd "$(dirname "$0")/../../../.."
CGO_ENABLED=0 go build -o bin/hakv ./cmd/hakv

FAILOVER_MS=2000 # the default --failover-timeout
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap cleanup EXIT

# Ports below the usual ephemeral range; a taken one is retried elsewhere.
for try in 1 2 3; do
	BASE=${BASE:-$((20000 + RANDOM % 12000))}
	addr() { echo "127.0.0.1:$((BASE + $1 - 1))"; }
	peers="n1=$(addr 1),n2=$(addr 2),n3=$(addr 3)"
	pids=()
	for i in 1 2 3; do
		# shellcheck disable=SC2086
		bin/hakv --id "n$i" --listen "$(addr "$i")" --peers "$peers" --data "$dir/$try/n$i" ${EXTRA:-} 2>"$dir/n$i.log" &
		pids+=("$!")
		disown
	done
	sleep 0.3
	alive=0
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
	[ "$alive" -eq 3 ] && break
	echo "a node did not start (port taken?), retrying"
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	unset BASE
	[ "$try" -eq 3 ] && { tail -n 3 "$dir"/n*.log; exit 1; }
done

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# find_primary SKIP: prints the number of the node (not SKIP) that reports primary.
find_primary() {
	for i in 1 2 3; do
		[ "$i" = "$1" ] && continue
		if curl -s --max-time 0.5 "http://$(addr "$i")/status" | grep -q '"role":"primary"'; then
			echo "$i"
			return 0
		fi
	done
	return 1
}
wait_primary() { # wait_primary SKIP DEADLINE_MS
	while ! find_primary "$1"; do
		if [ "$(now_ms)" -gt "$2" ]; then return 1; fi
		sleep 0.02
	done
}

start=$(now_ms)
p=$(wait_primary 0 $((start + 10000))) || { echo "FAIL: no primary 10 s after start"; exit 1; }
echo "primary n$p after $(($(now_ms) - start)) ms"
for k in $(seq -w 1 300); do
	curl -sf --max-time 5 -X PUT --data-binary "value-$k" "http://$(addr "$p")/kv/key-$k" >/dev/null ||
		{ echo "FAIL: write key-$k"; exit 1; }
done
echo "wrote 300 keys on n$p"

kill -9 "${pids[$((p - 1))]}"
killed=$(now_ms)
np=$(wait_primary "$p" $((killed + FAILOVER_MS + 1500))) ||
	{ echo "FAIL: no new primary within $((FAILOVER_MS + 1500)) ms"; tail -n 5 "$dir"/n*.log; exit 1; }
echo "new primary n$np after $(($(now_ms) - killed)) ms (budget $((FAILOVER_MS + 1500)) ms)"

missing=0
for k in $(seq -w 1 300); do
	got=$(curl -s --max-time 5 "http://$(addr "$np")/kv/key-$k" || true)
	if [ "$got" != "value-$k" ]; then
		missing=$((missing + 1))
		echo "key-$k: got '$got'"
	fi
done
if [ "$missing" -ne 0 ]; then
	echo "FAIL: $missing of 300 keys not readable on n$np"
	exit 1
fi
echo "PASS: all 300 keys readable on n$np"
