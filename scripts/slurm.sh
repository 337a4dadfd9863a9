#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm launcher's tests and for trying
# `--executor slurm` without a real cluster (Debian 12 `slurm-wlm` 22.05 + `munge`, as root).
#
#   scripts/slurm.sh install [--dir DIR]   apt-get install slurm-wlm munge (only when missing)
#   scripts/slurm.sh start   [--dir DIR]   munge key, slurm.conf, munged + slurmctld + slurmd;
#                                          waits (bounded) until `sinfo` shows the node idle
#   scripts/slurm.sh stop    [--dir DIR]   stops the daemons by their pid files
#   scripts/slurm.sh status  [--dir DIR]   daemons, sinfo, squeue; exit 1 when not up
#
# DIR (default $TINYFORGE_SLURM_DIR or /tmp/tinyforge-slurm) holds the state, spool, pid files and
# logs. The configuration (the verified one of ../shared/CLUSTER-NOTES.md; CPUs, sockets, cores
# and memory from `slurmd -C`, i.e. this machine) is written to DIR/slurm.conf and to
# /etc/slurm/slurm.conf, where sbatch/squeue/scancel look for it. An /etc/slurm/slurm.conf that
# this script did not write (a real cluster's) is never replaced: start refuses instead.
# Every command is idempotent: start on a running cluster only waits for the node, stop on a
# stopped one does nothing. Only one such cluster can run per machine (slurmctld port 6817).
set -euo pipefail

usage() { echo "usage: slurm.sh install|start|stop|status [--dir DIR]" >&2; exit 2; }
[ $# -ge 1 ] || usage
CMD="$1"; shift
DIR="${TINYFORGE_SLURM_DIR:-/tmp/tinyforge-slurm}"
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) [ $# -ge 2 ] || usage; DIR="$2"; shift 2 ;;
        *) echo "slurm.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
CONF="$DIR/slurm.conf"
ETC_CONF=/etc/slurm/slurm.conf
MARKER="# Written by TinyForge scripts/slurm.sh"
MUNGE_PID=/run/munge/munged.pid
WAIT_SECONDS="${TINYFORGE_SLURM_WAIT:-60}"

die() { echo "slurm.sh: $*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "$CMD needs root (the daemons run as root/munge); run it with sudo"; }

# True when the pid in file $1 names a live process whose name is the file's base name
# (slurmctld.pid → slurmctld), so a stale pid file whose pid was reused never gets a kill.
alive() {
    [ -s "$1" ] || return 1
    local pid name
    pid="$(cat "$1")"; name="$(basename "$1" .pid)"
    kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

install_packages() {
    local missing=()
    for p in slurm-wlm munge; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then echo "slurm.sh: slurm-wlm and munge already installed"; return; fi
    need_root
    command -v apt-get >/dev/null || die "apt-get not found; install ${missing[*]} by hand"
    echo "slurm.sh: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The munge key (1024 random bytes, munge:munge, 0400) and the socket directory.
munge_key() {
    mkdir -p /etc/munge /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key /run/munge
    chmod 400 /etc/munge/munge.key
    chmod 755 /run/munge
}

write_conf() {
    local host node
    host="$(hostname -s)"
    # `slurmd -C` prints this machine's node line (CPUs, Boards, Sockets, Cores, Threads,
    # RealMemory): a node line that overstates the hardware would leave the node drained.
    node="$(slurmd -C | grep '^NodeName=' | head -1)"
    [ -n "$node" ] || die "slurmd -C printed no NodeName line"
    mkdir -p "$DIR/state" "$DIR/spool"
    cat > "$CONF.tmp" <<EOF
$MARKER for a one-node test cluster (state in $DIR).
ClusterName=tf
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldLogFile=$DIR/ctl.log
SlurmdLogFile=$DIR/d.log
$node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$CONF.tmp" "$CONF"
    if [ -e "$ETC_CONF" ] && ! grep -qF "$MARKER" "$ETC_CONF"; then
        die "$ETC_CONF exists and was not written by this script (a real cluster's?); not replacing it. Move it away to use the test cluster."
    fi
    mkdir -p /etc/slurm
    cp "$CONF" "$ETC_CONF.tmp" && mv "$ETC_CONF.tmp" "$ETC_CONF"
}

logs_tail() {
    for f in "$DIR/ctl.log" "$DIR/d.log"; do
        [ -f "$f" ] && { echo "--- last lines of $f"; tail -n 15 "$f"; }
    done
}

node_state() { sinfo -h -N -n "$(hostname -s)" -o '%t' 2>/dev/null | head -1; }

# Refuses to start a second cluster: the one of /etc/slurm/slurm.conf from another DIR is up.
other_cluster_check() {
    [ -f "$ETC_CONF" ] && grep -qF "$MARKER" "$ETC_CONF" || return 0
    local other
    other="$(sed -n 's/^StateSaveLocation=\(.*\)\/state$/\1/p' "$ETC_CONF")"
    if [ -n "$other" ] && [ "$other" != "$DIR" ] && { alive "$other/slurmctld.pid" || alive "$other/slurmd.pid"; }; then
        die "a test cluster with state in $other is running (one per machine: port 6817); stop it first: scripts/slurm.sh stop --dir $other"
    fi
}

start() {
    need_root
    command -v slurmctld >/dev/null && command -v munged >/dev/null \
        || die "slurm-wlm/munge are not installed; run: scripts/slurm.sh install"
    other_cluster_check
    if alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid"; then
        echo "slurm.sh: already running (state in $DIR)"
    else
        munge_key
        write_conf
        if ! alive "$MUNGE_PID"; then
            runuser -u munge -- /usr/sbin/munged || die "munged did not start (see /var/log/munge/munged.log)"
            touch "$DIR/munged.ours"
        fi
        alive "$DIR/slurmctld.pid" || slurmctld -f "$CONF" || { logs_tail >&2; die "slurmctld did not start"; }
        alive "$DIR/slurmd.pid" || slurmd -f "$CONF" || { logs_tail >&2; die "slurmd did not start"; }
    fi
    local deadline=$((SECONDS + WAIT_SECONDS)) state=""
    while [ $SECONDS -lt $deadline ]; do
        state="$(node_state)"
        case "$state" in idle|mix|alloc) echo "slurm.sh: node $(hostname -s) is $state (state in $DIR)"; return 0 ;; esac
        sleep 1
    done
    logs_tail >&2
    die "the node did not become idle within ${WAIT_SECONDS} s (sinfo state: '${state:-none}'); see the logs above"
}

# Sends TERM to the daemon of pid file $1, waits up to 15 s, then KILL.
stop_daemon() {
    local file="$1" name="$2" pid
    if ! alive "$file"; then rm -f "$file"; return; fi
    pid="$(cat "$file")"
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    rm -f "$file"
    echo "slurm.sh: stopped $name (pid $pid)"
}

stop() {
    stop_daemon "$DIR/slurmd.pid" slurmd
    stop_daemon "$DIR/slurmctld.pid" slurmctld
    # munged only when this script started it (another service may use it).
    if [ -f "$DIR/munged.ours" ]; then
        stop_daemon "$MUNGE_PID" munged
        rm -f "$DIR/munged.ours"
    fi
}

status() {
    local up=0
    alive "$MUNGE_PID" && echo "munged:    running (pid $(cat $MUNGE_PID))" || { echo "munged:    stopped"; up=1; }
    for d in slurmctld slurmd; do
        alive "$DIR/$d.pid" && printf '%-10s running (pid %s)\n' "$d:" "$(cat "$DIR/$d.pid")" \
            || { printf '%-10s stopped\n' "$d:"; up=1; }
    done
    if [ $up = 0 ]; then sinfo; squeue; fi
    return $up
}

case "$CMD" in
    install) install_packages ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) usage ;;
esac
