#!/bin/sh
# hadrill-pgaf ROLE: runs one pg_auto_failover node as the postgres user.
# ROLE is "monitor" or "postgres". The first start creates the node
# (pg_autoctl create ...); a marker in the data folder says it is done, so
# a restarted node (after a kill) goes straight to `pg_autoctl run`. A data
# node waits for the monitor first: pg_autoctl create postgres needs it.
# Settings come from the environment (see the Go side, system.go):
#   PGAF_MONITOR        monitor URI (data nodes)
#   PGAF_QUORUM         true|false: --replication-quorum (data nodes)
#   PGAF_PRIORITY       --candidate-priority (data nodes)
#   PGAF_SYNC_STANDBYS  the formation's number_sync_standbys (data nodes)
#   PGAF_PARTITION_TIMEOUT  timeout.network_partition_timeout, seconds (data nodes)
#   PGAF_CONF           postgresql.conf lines for this node (monitor: its GUCs)
set -eu
role=$1
export PATH=/usr/lib/postgresql/15/bin:$PATH
export PGDATA=/data/pgdata
export XDG_CONFIG_HOME=/data/xdg/config XDG_DATA_HOME=/data/xdg/share
export XDG_RUNTIME_DIR=/tmp/pgaf-run
rm -rf "$XDG_RUNTIME_DIR" && mkdir -p "$XDG_RUNTIME_DIR"
host=$(hostname)
marker=/data/created

if [ ! -f "$marker" ]; then
  case $role in
  monitor)
    pg_autoctl create monitor --pgdata "$PGDATA" --pgport 5432 --hostname "$host" \
      --auth trust --no-ssl
    ;;
  postgres)
    # Wait for the monitor, and set the formation's number_sync_standbys on
    # its table directly: the monitor's own function refuses values above
    # the standbys registered so far, and none is yet. Every data node sets
    # it; the monitor may restart once (create, then run) meanwhile.
    until psql "postgres://postgres@${PGAF_MONITOR#*@}" -Atqc \
      "UPDATE pgautofailover.formation SET number_sync_standbys = $PGAF_SYNC_STANDBYS WHERE formationid = 'default'" >/dev/null 2>&1; do
      echo "hadrill-pgaf: waiting for the monitor" >&2
      sleep 0.5
    done
    pg_autoctl create postgres --pgdata "$PGDATA" --pgport 5432 --hostname "$host" --name "$host" \
      --monitor "$PGAF_MONITOR" --auth trust --no-ssl \
      --replication-quorum "$PGAF_QUORUM" --candidate-priority "$PGAF_PRIORITY"
    ;;
  *) echo "hadrill-pgaf: unknown role $role" >&2; exit 2 ;;
  esac
  touch "$marker"
fi

# The run network is the trust boundary: every host may connect without a
# password (the harness's client comes through Docker's published port).
for kind in all replication; do
  line="host $kind all 0.0.0.0/0 trust"
  grep -qxF "$line" "$PGDATA/pg_hba.conf" || echo "$line" >> "$PGDATA/pg_hba.conf"
done
printf '%s\n' "${PGAF_CONF:-}" > "$PGDATA/hadrill.conf"
grep -qxF "include_if_exists = 'hadrill.conf'" "$PGDATA/postgresql.conf" ||
  echo "include_if_exists = 'hadrill.conf'" >> "$PGDATA/postgresql.conf"
if [ "$role" = postgres ]; then
  pg_autoctl config set --pgdata "$PGDATA" timeout.network_partition_timeout "$PGAF_PARTITION_TIMEOUT" >/dev/null
fi
exec pg_autoctl run --pgdata "$PGDATA"
