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

stop_one() {  # name pidfile expected-cmdline-substring
    local name="$1" f="$2" want="$3" pid i
    if [ ! -s "$f" ]; then
        log "$name: not running (no pid file)"
        return 0
    fi
    pid="$(cat "$f")"
    if ! kill -0 "$pid" 2>/dev/null; then
        log "$name: not running (stale pid $pid)"
        rm -f "$f"
        return 0
    fi
    if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$want"; then
        log "$name: pid $pid is not ours any more (command line has no '$want'); leaving it alone"
        rm -f "$f"
        return 0
    fi
    # start.sh runs each one as the leader of its own session/process group
    log "$name: stopping pid $pid"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name: still alive after 10s, sending SIGKILL"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$f"
}

stop_one "CKAN" "$RUN/ckan.pid" ckan
stop_one "Solr stand-in" "$RUN/solr-standin.pid" solr_standin
# the env file's pids are stale now; start.sh writes a new one
[ -f "$ENV_FILE" ] && sed -i -e '/^export CKAN_PID=/d' -e '/^export CKAN_SOLR_STANDIN_PID=/d' "$ENV_FILE"
log "done (PostgreSQL and Redis left running)"
