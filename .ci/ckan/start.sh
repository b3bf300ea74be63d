#!/usr/bin/env bash
# Set up (first time) and start a real CKAN 2.12 portal on 127.0.0.1 for the
# integration tests, with ckanext-dcat, PostgreSQL, Redis and the Solr
# stand-in (.ci/ckan/solr_standin.py; Apache Solr cannot be installed
# here).  Idempotent: every step checks before it acts, and a call while the
# portal is already up returns within a second or two.
#
# Writes a shell-sourceable env file (default /opt/policy-toolkit-ckan/env):
#     . /opt/policy-toolkit-ckan/env   # CKAN_URL, CKAN_API_TOKEN, CKAN_ORG ...
#
# Settings (environment variables, all optional):
#   CKAN_PORT        CKAN's port on 127.0.0.1                 (5055)
#   CKAN_SOLR_PORT   the Solr stand-in's port on 127.0.0.1     (8983)
#   CKAN_REDIS_PORT  Redis port on 127.0.0.1 (started if down) (6379)
#   CKAN_BASE        where everything lives, outside the repo  (/opt/policy-toolkit-ckan)
#   CKAN_PYTHON      interpreter for CKAN's virtualenv (python3, >= 3.10)
#   CKAN_START_TIMEOUT  seconds to wait for CKAN to answer     (240)
#
# See .ci/ckan/README.md.  Needs root (apt-get, PostgreSQL set-up), except when
# the portal is already up: that check comes first and needs only read access to
# the env file.
#
# Two locks under $CKAN_BASE/run/: start.lock (one start.sh at a time) and
# portal.lock, which the tests that use the portal hold while they use it (two
# clones testing at once take turns; the CKAN kill test SIGKILLs the shared
# portal).  start.sh never stops a running portal while portal.lock is held by
# someone else (it waits), unless CKAN_PORTAL_LOCK_HELD=1 says that its caller
# holds it.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
STANDIN_PY="$REPO_ROOT/.ci/ckan/solr_standin.py"

PORT="${CKAN_PORT:-5055}"
SOLR_PORT="${CKAN_SOLR_PORT:-8983}"
REDIS_PORT="${CKAN_REDIS_PORT:-6379}"
BASE="${CKAN_BASE:-/opt/policy-toolkit-ckan}"
START_TIMEOUT="${CKAN_START_TIMEOUT:-240}"

VENV="$BASE/venv"
INI="$BASE/ckan.ini"
STORAGE="$BASE/storage"
LOGS="$BASE/logs"
RUN="$BASE/run"
STATE="$BASE/state"
ENV_FILE="$BASE/env"
# what the command lines of our two processes contain (stop.sh uses the same)
CKAN_CMD_MARK="$VENV/bin/ckan -c $INI run"
STANDIN_CMD_MARK="solr_standin.py --host 127.0.0.1 --port"

CKAN_SPEC='ckan[requirements]==2.12.*'
DCAT_SPEC='ckanext-dcat==2.4.*'
DB_NAME=ptk_ckan
DB_USER=ptk_ckan
SYSADMIN=ptk_admin
SYSADMIN_EMAIL=ptk_admin@example.org
ORG=policy-toolkit-test
TOKEN_NAME=policy-toolkit-tests

CKAN_URL="http://127.0.0.1:$PORT"
SOLR_URL="http://127.0.0.1:$SOLR_PORT/solr/ckan"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
APT_PACKAGES=(postgresql postgresql-client redis-server redis-tools libpq-dev gcc
              python3-dev libmagic1 curl ca-certificates util-linux procps)

T0=$(date +%s)
log()  { printf '[ckan-start %3ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" >&2; }
die()  { printf '[ckan-start] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; [ $rc -eq 0 ] || printf "[ckan-start] FAILED (exit %s); logs are in %s\n" "$rc" "$LOGS" >&2' EXIT

[ -f "$STANDIN_PY" ] || die "Solr stand-in not found at $STANDIN_PY"
case "$BASE" in "$REPO_ROOT"|"$REPO_ROOT"/*) die "CKAN_BASE must be outside the repository";; esac

# ---------------------------------------------------------------- helpers
pid_alive() {  # pidfile [expected substring of the command line]
    local f="$1" want="${2:-}" pid
    [ -s "$f" ] || return 1
    pid="$(cat "$f")"
    # /proc, not `kill -0`: a user other than root may not signal root's processes, but may see them
    [ -n "$pid" ] && [ -e "/proc/$pid" ] || return 1
    # a dead child that nobody has reaped yet (pid 1 may be slow) is not alive
    ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null || return 1
    [ -z "$want" ] && return 0
    local cmd; cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    [[ "$cmd" == *"$want"* ]]
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
http_ok()   { curl -fsS --max-time "${2:-5}" -o /dev/null "$1" 2>/dev/null; }
# run a command with no CKAN_* variables but CKAN_INI: CKAN reads CKAN_SITE_URL,
# CKAN_SQLALCHEMY_URL ... from the environment and copies every CKAN_* into
# its config, so a sourced env file must not leak into it.
CLEAN_ENV=(env)
for _v in $(compgen -e); do
    case "$_v" in CKAN_*) CLEAN_ENV+=(-u "$_v");; esac
done
CLEAN_ENV+=("CKAN_INI=$INI")
clean_env() { "${CLEAN_ENV[@]}" "$@"; }
ckan_cli() { clean_env "$VENV/bin/ckan" -c "$INI" "$@"; }
# launch PIDFILE LOGFILE CMD...: run CMD in the background in its own session
# (so stop.sh can signal the whole group), stdin closed, output appended to
# LOGFILE, and wait until PIDFILE holds its pid.
declare -A LOG_OFFSET=()
launch() {
    local pidf="$1" logf="$2"; shift 2
    rm -f "$pidf"
    LOG_OFFSET["$logf"]="$(stat -c %s "$logf" 2>/dev/null || echo 0)"
    echo "==== $(date -u +%Y-%m-%dT%H:%M:%SZ) started by .ci/ckan/start.sh: $*" >>"$logf"
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidf" "$@" \
        </dev/null >>"$logf" 2>&1 9>&- &
    local _i
    for _i in $(seq 1 100); do [ -s "$pidf" ] && return 0; sleep 0.05; done
    die "could not start: $* (no pid written to $pidf)"
}
new_log_lines() {  # print (the last 60 of) what LOGFILE got since launch
    local logf="$1" off="${LOG_OFFSET[$1]:-0}"
    echo "---- last lines of $logf ----" >&2
    tail -c "+$((off + 1))" "$logf" | tail -n 60 >&2
    echo "----" >&2
}
psql_su()  { (cd /tmp && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"); }
token_works() {  # token -> 0 when CKAN accepts it as the sysadmin's
    [ -n "$1" ] || return 1
    curl -fsS --max-time 10 -o /dev/null -H "Authorization: $1" \
        "$CKAN_URL/api/3/action/api_token_list?user_id=$SYSADMIN" 2>/dev/null
}
read_env_var() { [ -r "$ENV_FILE" ] && sed -n "s/^export $1=//p" "$ENV_FILE" | tail -n1 | tr -d "'\""; }

write_env_file() {
    local token="$1" tmp
    tmp="$(mktemp "$BASE/.env.XXXXXX")"
    {
        echo "# Written by .ci/ckan/start.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); source it:  . $ENV_FILE"
        printf 'export CKAN_URL=%q\n' "$CKAN_URL"
        printf 'export CKAN_API_TOKEN=%q\n' "$token"
        printf 'export CKAN_ORG=%q\n' "$ORG"
        printf 'export CKAN_SYSADMIN=%q\n' "$SYSADMIN"
        printf 'export CKAN_SYSADMIN_PASSWORD=%q\n' "$(cat "$STATE/sysadmin_password")"
        printf 'export CKAN_SOLR_STANDIN_URL=%q\n' "$SOLR_URL"
        printf 'export CKAN_PID=%q\n' "$(cat "$RUN/ckan.pid")"
        printf 'export CKAN_SOLR_STANDIN_PID=%q\n' "$(cat "$RUN/solr-standin.pid")"
        printf 'export CKAN_INI=%q\n' "$INI"
        printf 'export CKAN_VENV=%q\n' "$VENV"
        printf 'export CKAN_STORAGE_DIR=%q\n' "$STORAGE"
        printf 'export CKAN_LOG_DIR=%q\n' "$LOGS"
    } >"$tmp"
    chmod 600 "$tmp"
    mv -f "$tmp" "$ENV_FILE"
}

# CKAN and the stand-in up and healthy on our ports, and the env file's token works
portal_healthy() {
    pid_alive "$RUN/ckan.pid" "$CKAN_CMD_MARK" && pid_alive "$RUN/solr-standin.pid" "$STANDIN_CMD_MARK" \
        && [ "$(read_env_var CKAN_URL)" = "$CKAN_URL" ] \
        && http_ok "$SOLR_URL/admin/ping" 2 \
        && http_ok "$CKAN_URL/api/3/action/status_show" \
        && token_works "$(read_env_var CKAN_API_TOKEN)"
}
# ... and the env file names their pids (nothing to rewrite): read-only, needs no root
portal_up() {
    portal_healthy \
        && [ "$(read_env_var CKAN_PID)" = "$(cat "$RUN/ckan.pid")" ] \
        && [ "$(read_env_var CKAN_SOLR_STANDIN_PID)" = "$(cat "$RUN/solr-standin.pid")" ]
}

# the tests' lock (see the head of this file); flock needs only read access to it
make_portal_lock() { [ -e "$RUN/portal.lock" ] || { : >"$RUN/portal.lock"; chmod 644 "$RUN/portal.lock"; }; }

# ------------------------------------------------- fast path: already up
if portal_up; then
    if [ -w "$RUN" ]; then make_portal_lock; fi
    log "CKAN already running at $CKAN_URL (pid $(cat "$RUN/ckan.pid")); env file: $ENV_FILE"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    if [ -e "$ENV_FILE" ] && [ ! -r "$ENV_FILE" ] && pid_alive "$RUN/ckan.pid" "$CKAN_CMD_MARK"; then
        die "CKAN is running, but $ENV_FILE (mode 600) is readable only by root: run as root, or (as root) chmod 644 $ENV_FILE to share the test portal's token with this machine's users"
    fi
    die "the portal is not running: run me as root once to install and start it (apt-get and PostgreSQL set-up need root)"
fi

mkdir -p "$BASE" "$LOGS" "$RUN" "$STATE" "$STORAGE"
chmod 700 "$STATE"
make_portal_lock

# One start.sh at a time.  Every daemon started below gets `9>&-` so that it
# does not inherit (and hold) the lock after this script has exited.
exec 9>"$RUN/start.lock"
flock -w 900 9 || die "another start.sh has held $RUN/start.lock for 15 minutes"

# up already (perhaps brought up by another start.sh while this one waited for the
# lock): refresh the env file (its pids may be stale) and leave
if portal_healthy; then
    write_env_file "$(read_env_var CKAN_API_TOKEN)"
    log "CKAN already running at $CKAN_URL (pid $(cat "$RUN/ckan.pid")); env file: $ENV_FILE"
    exit 0
fi
if pid_alive "$RUN/ckan.pid" "$CKAN_CMD_MARK" || pid_alive "$RUN/solr-standin.pid" "$STANDIN_CMD_MARK"; then
    if [ "${CKAN_PORTAL_LOCK_HELD:-0}" != 1 ]; then
        # a test run may be using the portal (slow, not down): wait for it before stopping anything
        exec 8>>"$RUN/portal.lock"
        flock -w 1800 8 || die "a test run has held $RUN/portal.lock for 30 minutes; not stopping the portal under it"
    fi
    if portal_healthy; then
        write_env_file "$(read_env_var CKAN_API_TOKEN)"
        log "CKAN already running at $CKAN_URL (pid $(cat "$RUN/ckan.pid")); env file: $ENV_FILE"
        exit 0
    fi
    log "a previous CKAN / stand-in is running but not healthy or on another port: stopping it"
    CKAN_BASE="$BASE" bash "$SCRIPT_DIR/stop.sh"
    exec 8>&-  # stopped: starting it again needs no lock, and no daemon below may inherit this one
fi

# ------------------------------------------------------- 1. apt packages
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$LOGS/apt.log" 2>&1 || { tail -n 20 "$LOGS/apt.log" >&2; die "apt-get update failed"; }
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1 9>&- \
        || { tail -n 30 "$LOGS/apt.log" >&2; die "apt-get install failed (see $LOGS/apt.log)"; }
fi

# ------------------------------------------------------- 1b. PostgreSQL
cluster="$(pg_lsclusters --no-header 2>/dev/null | awk 'NR==1{print $1" "$2}')"
if [ -z "$cluster" ]; then
    ver="$(ls /usr/lib/postgresql | sort -n | tail -n1)"
    [ -n "$ver" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
    log "creating PostgreSQL cluster $ver/main"
    pg_createcluster "$ver" main >>"$LOGS/postgres-setup.log" 2>&1 9>&- || die "pg_createcluster failed"
    cluster="$ver main"
fi
# shellcheck disable=SC2086
set -- $cluster
PG_VER="$1" PG_CLUSTER="$2"
PG_PORT="$(pg_lsclusters --no-header | awk -v v="$PG_VER" -v c="$PG_CLUSTER" '$1==v && $2==c {print $3}')"
if ! pg_lsclusters --no-header | awk -v v="$PG_VER" -v c="$PG_CLUSTER" '$1==v && $2==c' | grep -q online; then
    log "starting PostgreSQL $PG_VER/$PG_CLUSTER (port $PG_PORT)"
    pg_ctlcluster "$PG_VER" "$PG_CLUSTER" start >>"$LOGS/postgres-setup.log" 2>&1 9>&- \
        || { tail -n 20 "/var/log/postgresql/postgresql-$PG_VER-$PG_CLUSTER.log" >&2 || true; die "could not start PostgreSQL"; }
fi
for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.5; done
pg_isready -q -h 127.0.0.1 -p "$PG_PORT" || die "PostgreSQL is not accepting connections on 127.0.0.1:$PG_PORT"

# ------------------------------------------------------------- 1c. Redis
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    port_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by something that is not Redis"
    log "starting redis-server on 127.0.0.1:$REDIS_PORT"
    mkdir -p "$BASE/redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$BASE/redis" \
        --save '' --appendonly no --logfile "$LOGS/redis.log" --pidfile "$RUN/redis.pid" 9>&- \
        || die "redis-server failed to start (see $LOGS/redis.log)"
    for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.25; done
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG || die "Redis does not answer (see $LOGS/redis.log)"
fi

# -------------------------------------------------------- 2. virtualenv
want_stamp="$CKAN_SPEC $DCAT_SPEC"
if [ ! -x "$VENV/bin/ckan" ] || [ "$(cat "$VENV/.ptk-installed" 2>/dev/null)" != "$want_stamp" ] \
   || ! "$VENV/bin/python" -c 'import ckan, ckanext.dcat, psycopg2' 2>/dev/null; then
    PY="${CKAN_PYTHON:-}"
    if [ -z "$PY" ]; then
        for cand in python3 /usr/bin/python3; do
            if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
                PY="$cand"; break
            fi
        done
    fi
    if [ -z "$PY" ]; then
        log "no Python >= 3.10 with venv found: installing Debian's python3-venv"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >>"$LOGS/apt.log" 2>&1 || die "apt-get install python3-venv failed"
        PY=/usr/bin/python3
    fi
    log "creating CKAN virtualenv $VENV with $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV" || die "python -m venv failed"
    log "pip install $CKAN_SPEC $DCAT_SPEC (log: $LOGS/pip.log)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -U pip setuptools wheel >"$LOGS/pip.log" 2>&1 \
        || { tail -n 30 "$LOGS/pip.log" >&2; die "upgrading pip in the CKAN venv failed"; }
    "$VENV/bin/python" -m pip install --disable-pip-version-check "$CKAN_SPEC" "$DCAT_SPEC" >>"$LOGS/pip.log" 2>&1 \
        || { grep -v 'is ignored' "$LOGS/pip.log" | tail -n 30 >&2; die "pip install of CKAN failed (see $LOGS/pip.log)"; }
    "$VENV/bin/python" -c 'import ckan, ckanext.dcat, psycopg2' || die "CKAN venv is broken after pip install"
    echo "$want_stamp" >"$VENV/.ptk-installed"
fi
CKAN_VERSION="$("$VENV/bin/python" -c 'import ckan; print(ckan.__version__)')"
DCAT_VERSION="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("ckanext-dcat"))')"

# ---------------------------------------------- 3. database role and ini
[ -s "$STATE/db_password" ] || (umask 077; "$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(16))' >"$STATE/db_password")
[ -s "$STATE/sysadmin_password" ] || (umask 077; "$VENV/bin/python" -c 'import secrets; print("Ptk-" + secrets.token_urlsafe(18))' >"$STATE/sysadmin_password")
DB_PASS="$(cat "$STATE/db_password")"
SYSADMIN_PASS="$(cat "$STATE/sysadmin_password")"

if [ "$(psql_su -Atc "SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'")" != 1 ]; then
    log "creating PostgreSQL role $DB_USER"
    psql_su -c "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASS'"
else
    psql_su -c "ALTER ROLE $DB_USER LOGIN PASSWORD '$DB_PASS'"
fi
fresh_db=0
if [ "$(psql_su -Atc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'")" != 1 ]; then
    log "creating database $DB_NAME"
    psql_su -c "CREATE DATABASE $DB_NAME OWNER $DB_USER ENCODING 'UTF8' TEMPLATE template0"
    fresh_db=1
fi

if [ ! -s "$INI" ]; then
    log "generating $INI"
    rm -f "$STATE/ckan-overrides.applied"
    clean_env "$VENV/bin/ckan" generate config "$INI" >"$LOGS/ckan-cli.log" 2>&1 \
        || { cat "$LOGS/ckan-cli.log" >&2; die "ckan generate config failed"; }
fi
# Our settings, merged into the generated ini whenever they differ from what
# was merged last time, so a new port or path is picked up (`ckan
# config-tool` costs a second or two, so it is skipped when nothing changed).
overrides="$(mktemp "$STATE/.overrides.XXXXXX")"
cat >"$overrides" <<EOF
[app:main]
sqlalchemy.url = postgresql://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME
ckan.site_url = $CKAN_URL
ckan.site_id = default
ckan.site_title = policy-toolkit test CKAN
solr_url = $SOLR_URL
ckan.redis.url = $REDIS_URL
ckan.storage_path = $STORAGE
ckan.uploads_enabled = true
ckan.max_resource_size = 100
ckan.plugins = dcat
ckan.devserver.host = 127.0.0.1
ckan.devserver.port = $PORT
ckan.devserver.threaded = true
ckan.auth.create_unowned_dataset = false
ckanext.dcat.base_uri = $CKAN_URL

[logger_werkzeug]
level = INFO
EOF
if ! cmp -s "$overrides" "$STATE/ckan-overrides.applied"; then
    log "writing settings into $INI"
    clean_env "$VENV/bin/ckan" config-tool "$INI" -f "$overrides" >>"$LOGS/ckan-cli.log" 2>&1 \
        || { rm -f "$overrides"; tail -n 20 "$LOGS/ckan-cli.log" >&2; die "ckan config-tool failed"; }
    mv -f "$overrides" "$STATE/ckan-overrides.applied"
else
    rm -f "$overrides"
fi

# ---------------------------------------------------- 5a. Solr stand-in
# (started before any `ckan` command: CKAN checks the search index's schema
# version whenever it loads its config, the CLI included)
if [ "$fresh_db" = 1 ]; then rm -f "$STATE/solr-standin.json"; fi
if ! pid_alive "$RUN/solr-standin.pid" "$STANDIN_CMD_MARK"; then
    port_open "$SOLR_PORT" && die "port $SOLR_PORT is already in use (set CKAN_SOLR_PORT to another port)"
    log "starting Solr stand-in on 127.0.0.1:$SOLR_PORT (log: $LOGS/solr-standin.log)"
    launch "$RUN/solr-standin.pid" "$LOGS/solr-standin.log" \
        "$VENV/bin/python" "$STANDIN_PY" --host 127.0.0.1 --port "$SOLR_PORT" \
        --persist "$STATE/solr-standin.json"
    for _ in $(seq 1 60); do
        http_ok "$SOLR_URL/admin/ping" 2 && break
        pid_alive "$RUN/solr-standin.pid" || break
        sleep 0.25
    done
    http_ok "$SOLR_URL/admin/ping" 2 || { new_log_lines "$LOGS/solr-standin.log"; die "Solr stand-in did not come up"; }
fi

# ------------------------------------------- 4. schema, sysadmin, token
if [ "$fresh_db" = 1 ] || [ "$(cat "$STATE/db.stamp" 2>/dev/null)" != "$CKAN_VERSION $DCAT_VERSION ckan.plugins=dcat" ] \
   || [ "$(psql_su -d "$DB_NAME" -Atc "SELECT to_regclass('public.package') IS NOT NULL")" != t ]; then
    log "ckan db init (core and plugin migrations; log: $LOGS/ckan-cli.log)"
    ckan_cli db init >>"$LOGS/ckan-cli.log" 2>&1 || { tail -n 30 "$LOGS/ckan-cli.log" >&2; die "ckan db init failed"; }
    ckan_cli db pending-migrations --apply >>"$LOGS/ckan-cli.log" 2>&1 \
        || { tail -n 30 "$LOGS/ckan-cli.log" >&2; die "ckan db pending-migrations --apply failed"; }
    echo "$CKAN_VERSION $DCAT_VERSION ckan.plugins=dcat" >"$STATE/db.stamp"
fi

if [ "$(psql_su -d "$DB_NAME" -Atc "SELECT sysadmin FROM \"user\" WHERE name='$SYSADMIN' AND state='active'")" != t ]; then
    log "creating sysadmin $SYSADMIN"
    if [ "$(psql_su -d "$DB_NAME" -Atc "SELECT 1 FROM \"user\" WHERE name='$SYSADMIN'")" != 1 ]; then
        ckan_cli user add "$SYSADMIN" "email=$SYSADMIN_EMAIL" "password=$SYSADMIN_PASS" \
            "fullname=policy-toolkit CI sysadmin" </dev/null >>"$LOGS/ckan-cli.log" 2>&1 \
            || { tail -n 30 "$LOGS/ckan-cli.log" >&2; die "ckan user add failed"; }
    fi
    ckan_cli sysadmin add "$SYSADMIN" </dev/null >>"$LOGS/ckan-cli.log" 2>&1 \
        || { tail -n 30 "$LOGS/ckan-cli.log" >&2; die "ckan sysadmin add failed"; }
fi
# keep the password in step with the state file (cheap, and makes CKAN_SYSADMIN_PASSWORD true)
if [ "$fresh_db" != 1 ] && [ ! -f "$STATE/sysadmin_password.applied" ]; then
    ckan_cli user setpass "$SYSADMIN" -p "$SYSADMIN_PASS" </dev/null >>"$LOGS/ckan-cli.log" 2>&1 || true
fi
touch "$STATE/sysadmin_password.applied"

# --------------------------------------------------------- 5b. CKAN
port_open "$PORT" && die "port $PORT is already in use by another program (set CKAN_PORT to another port)"
log "starting CKAN $CKAN_VERSION on $CKAN_URL (log: $LOGS/ckan.log)"
launch "$RUN/ckan.pid" "$LOGS/ckan.log" \
    "${CLEAN_ENV[@]}" "$VENV/bin/ckan" -c "$INI" run -H 127.0.0.1 -p "$PORT" \
    --disable-reloader --threaded --disable-debugger
deadline=$(( $(date +%s) + START_TIMEOUT ))
until http_ok "$CKAN_URL/api/3/action/status_show" 5; do
    if ! pid_alive "$RUN/ckan.pid"; then
        new_log_lines "$LOGS/ckan.log"; die "CKAN exited during start-up (see $LOGS/ckan.log)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        new_log_lines "$LOGS/ckan.log"; die "CKAN did not answer status_show within ${START_TIMEOUT}s"
    fi
    sleep 0.5
done
log "CKAN answers at $CKAN_URL/api/3/action/status_show"

# API token: reuse the stored one while CKAN accepts it, else make a new one
TOKEN="$(cat "$STATE/api_token" 2>/dev/null || true)"
if ! token_works "$TOKEN"; then
    log "creating an API token for $SYSADMIN (ckan user token add)"
    TOKEN="$(ckan_cli user token add "$SYSADMIN" "$TOKEN_NAME" --quiet </dev/null 2>>"$LOGS/ckan-cli.log" | tail -n1 | tr -d '[:space:]')"
    [ -n "$TOKEN" ] || { tail -n 30 "$LOGS/ckan-cli.log" >&2; die "ckan user token add printed no token"; }
    (umask 077; printf '%s\n' "$TOKEN" >"$STATE/api_token")
    token_works "$TOKEN" || die "CKAN does not accept the new API token"
fi

# organisation (created if missing, revived if a test deleted it)
org_status="$(curl -sS --max-time 10 -o "$RUN/org.json" -w '%{http_code}' -H "Authorization: $TOKEN" \
    "$CKAN_URL/api/3/action/organization_show?id=$ORG")"
if [ "$org_status" = 200 ] && [ "$("$VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["result"]["state"])' "$RUN/org.json")" != active ]; then
    log "organisation $ORG exists but is not active: setting state=active"
    curl -fsS --max-time 30 -o /dev/null -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \
        -d "{\"id\": \"$ORG\", \"state\": \"active\"}" "$CKAN_URL/api/3/action/organization_patch" \
        || die "organization_patch (state=active) failed"
elif [ "$org_status" = 404 ]; then
    log "creating organisation $ORG"
    curl -fsS --max-time 30 -o "$LOGS/organization_create.json" -H "Authorization: $TOKEN" \
        -H 'Content-Type: application/json' \
        -d "{\"name\": \"$ORG\", \"title\": \"policy-toolkit test organisation\"}" \
        "$CKAN_URL/api/3/action/organization_create" \
        || { cat "$LOGS/organization_create.json" >&2 2>/dev/null || true; die "organization_create failed"; }
elif [ "$org_status" != 200 ]; then
    die "organization_show for $ORG answered HTTP $org_status"
fi

write_env_file "$TOKEN"
log "ready: CKAN $CKAN_VERSION + ckanext-dcat $DCAT_VERSION at $CKAN_URL, org $ORG, sysadmin $SYSADMIN"
log "env file: $ENV_FILE   (source it: . $ENV_FILE)"
