#!/usr/bin/env bash
# Stop the CKAN portal and the Solr stand-in started by .ci/ckan/start.sh.
# PostgreSQL and Redis are left running, and no data is removed: the next
# start.sh comes up warm with the same database, token and organisation.
# Only the processes whose pids start.sh recorded are signalled.
set -euo pipefail

BASE="${CKAN_BASE:-/opt/policy-toolkit-ckan}"
RUN="$BASE/run"
ENV_FILE="$BASE/env"

log() { printf '[ckan-stop] %s\n' "$*" >&2; }
# alive = exists and is not a zombie (pid 1 here may reap orphans slowly)
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

stop_one() {  # name pidfile expected-cmdline-substring
    local name="$1" f="$2" want="$3" pid cmd
    if [ ! -s "$f" ]; then
        log "$name: not running (no pid file)"
        return 0
    fi
    pid="$(cat "$f")"
    if ! alive "$pid"; then
        log "$name: not running (stale pid $pid)"
        rm -f "$f"
        return 0
    fi
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    if [[ "$cmd" != *"$want"* ]]; then
        log "$name: pid $pid is not ours any more (command line has no '$want'); leaving it alone"
        rm -f "$f"
        return 0
    fi
    # start.sh runs each one as the leader of its own session/process group
    log "$name: stopping pid $pid"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
        alive "$pid" || break
        sleep 0.25
    done
    if alive "$pid"; then
        log "$name: still alive after 10s, sending SIGKILL"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$f"
}

# the same command-line marks as start.sh's, so a recycled pid is never signalled
stop_one "CKAN" "$RUN/ckan.pid" "$BASE/venv/bin/ckan -c $BASE/ckan.ini run"
stop_one "Solr stand-in" "$RUN/solr-standin.pid" "solr_standin.py --host 127.0.0.1 --port"
# the env file's pids are stale now; start.sh writes a new one
[ -f "$ENV_FILE" ] && sed -i -e '/^export CKAN_PID=/d' -e '/^export CKAN_SOLR_STANDIN_PID=/d' "$ENV_FILE"
log "done (PostgreSQL and Redis left running)"
