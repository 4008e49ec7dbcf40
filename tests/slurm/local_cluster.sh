#!/usr/bin/env bash
# A private, one-node SLURM cluster on this machine for mien's cluster tests:
# munged, slurmctld and slurmd from Debian's munge and slurm-wlm packages, with their own
# config, key, sockets, state, logs and ports under one folder. Nothing in /etc/slurm,
# /etc/munge, /run/munge or the default ports is read or written, so a machine where
# SLURM or munge is already configured keeps working.
#
#   tests/slurm/local_cluster.sh start    write the config, start the daemons, wait until
#                                         the node is idle (exit 1 with the logs' tails if not)
#   tests/slurm/local_cluster.sh stop     stop the daemons this script started
#   tests/slurm/local_cluster.sh env      print `export SLURM_CONF=...` for the shell
#   tests/slurm/local_cluster.sh status   sinfo of the private cluster
#
# Settings (environment): MIEN_SLURM_DIR (default /tmp/mien-slurm-$UID; short, because a
# Unix socket path is limited to 107 bytes), MIEN_SLURM_PORT (slurmctld's port; default: the
# first free one of 16817, 16827, ...; slurmd uses the next one), MIEN_SLURM_CPUS (default 2), MIEN_SLURM_START_TIMEOUT
# (seconds to wait for an idle node, default 60).
set -euo pipefail

DIR="${MIEN_SLURM_DIR:-/tmp/mien-slurm-$(id -u)}"
PORT="${MIEN_SLURM_PORT:-}"
CPUS="${MIEN_SLURM_CPUS:-2}"
TIMEOUT="${MIEN_SLURM_START_TIMEOUT:-60}"
NODE=localhost
CONF="$DIR/etc/slurm.conf"
MUNGE_SOCKET="$DIR/munge/munge.socket"
export SLURM_CONF="$CONF"

die() {
  echo "local_cluster: $*" >&2
  exit 1
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install Debian's slurm-wlm and munge (setup.sh does)"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Something listens on 127.0.0.1:$1 (bash's /dev/tcp; no extra tool needed).
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

choose_port() {
  [ -n "$PORT" ] && return 0
  local p
  for p in 16817 16827 16837 16847 16857 16867 16877 16887; do
    if ! port_taken "$p" && ! port_taken "$((p + 1))"; then
      PORT=$p
      return 0
    fi
  done
  die "no free port pair among 16817..16888; set MIEN_SLURM_PORT"
}

show_logs() {
  for f in "$DIR/munge/munged.log" "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log"; do
    [ -f "$f" ] || continue
    echo "--- last lines of $f" >&2
    tail -n 15 "$f" >&2
  done
}

write_config() {
  mkdir -p "$DIR/etc" "$DIR/munge" "$DIR/state" "$DIR/spool" "$DIR/run" "$DIR/log"
  chmod 755 "$DIR/munge"  # clients need to reach the socket; the key itself is 0600
  # Memory the node offers: most of this machine's, so --mem requests are checked.
  local mem_mb
  mem_mb=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.8}' /proc/meminfo)
  cat >"$CONF" <<EOF
# Written by mien's tests/slurm/local_cluster.sh: a private one-node cluster.
ClusterName=mienlocal
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# Dependent jobs start as soon as their inputs' jobs end, not at the next minute's pass.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000
SlurmdParameters=config_overrides
ReturnToService=2
# Finished jobs stay visible to scontrol for an hour (no accounting database here).
MinJobAge=3600
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  if [ ! -s "$DIR/munge/munge.key" ]; then
    mungekey --create --keyfile="$DIR/munge/munge.key" 2>/dev/null ||
      dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 600 "$DIR/munge/munge.key"
}

start() {
  need munged
  need slurmctld
  need slurmd
  need sinfo
  if pid_alive "$DIR/run/slurmctld.pid" && [ -f "$CONF" ]; then
    echo "local_cluster: already running (SLURM_CONF=$CONF)"
  else
    choose_port
    write_config
  fi
  if ! pid_alive "$DIR/munge/munged.pid"; then
    rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
    # --force: munged refuses some set-ups (running as root, a group-writable /tmp
    # parent) that are harmless for a private test daemon.
    munged --force --socket="$MUNGE_SOCKET" --key-file="$DIR/munge/munge.key" \
      --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" \
      --seed-file="$DIR/munge/munged.seed" || { show_logs; die "munged did not start"; }
  fi
  if ! pid_alive "$DIR/run/slurmctld.pid"; then
    slurmctld -i || { show_logs; die "slurmctld did not start"; }
  fi
  if ! pid_alive "$DIR/run/slurmd.pid"; then
    slurmd -N "$NODE" || { show_logs; die "slurmd did not start"; }
  fi
  local waited=0 state=""
  while [ "$waited" -lt "$TIMEOUT" ]; do
    state=$(sinfo -h -n "$NODE" -o '%T' 2>/dev/null || true)
    case "$state" in
      # "idle*" (with the star) is a node slurmd has not registered yet: keep waiting.
      idle | mixed | allocated | completing) break ;;
      down | drain* | down\*) scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true ;;
    esac
    sleep 1
    waited=$((waited + 1))
  done
  case "$state" in
    idle | mixed | allocated | completing) ;;
    *) show_logs; die "the node was not idle after ${TIMEOUT}s (sinfo says '${state:-nothing}'); logs above, config $CONF" ;;
  esac
  # The node's state may come from the controller's saved state: only a job that really ran
  # shows that slurmd, munge credentials and job launch all work.
  if ! (cd "$DIR" && timeout "$TIMEOUT" sbatch --wait --quiet --output=/dev/null --job-name=mien-smoke --wrap true); then
    show_logs
    die "a one-second test job did not complete within ${TIMEOUT}s; logs above, config $CONF"
  fi
  echo "local_cluster: node $NODE ready after ${waited}s, a test job ran (SLURM_CONF=$CONF)"
}

stop_one() {
  local pidfile="$1" name="$2"
  pid_alive "$pidfile" || return 0
  local pid
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.2
  done
  echo "local_cluster: $name ($pid) did not stop in 10 s; killing it" >&2
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  # Jobs first, so that slurmd does not leave job steps behind.
  if pid_alive "$DIR/run/slurmctld.pid"; then scancel --full --quiet -u "$(id -un)" 2>/dev/null || true; fi
  stop_one "$DIR/run/slurmd.pid" slurmd
  stop_one "$DIR/run/slurmctld.pid" slurmctld
  stop_one "$DIR/munge/munged.pid" munged
  echo "local_cluster: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) echo "export SLURM_CONF='$CONF'" ;;
  status) sinfo ;;
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
