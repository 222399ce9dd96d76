#!/usr/bin/env bash
# scripts/postgres.sh ensure — make sure a PostgreSQL answers on
# 127.0.0.1:5432 and lets user postgres in with trust auth (no password), then
# print the connection URL (last line of output, on stdout).
#
# Our machines run one already (the machine's cluster, trust auth). Otherwise:
#   - a Debian cluster configured for port 5432 exists but is down: start it
#     with `pg_ctlcluster --skip-systemctl-redirect VERSION main start`;
#   - no cluster exists at all: create VERSION/main on port 5432 with trust
#     auth (pg_createcluster ... -- --auth=trust), then start it;
#   - it answers but wants a password (e.g. a cluster that Debian's package
#     created with its default scram auth): put trust lines for 127.0.0.1/::1
#     at the top of that cluster's pg_hba.conf and reload.
#
# Environment: TRIBUTARY_POSTGRES_START_TIMEOUT (seconds, default 60);
# TRIBUTARY_POSTGRES_PORT (default 5432; only for testing this script).
set -euo pipefail

HOST=127.0.0.1
PORT=${TRIBUTARY_POSTGRES_PORT:-5432}   # only for testing this script; tests expect 5432
URL="postgres://postgres@$HOST:$PORT/postgres"
TIMEOUT=${TRIBUTARY_POSTGRES_START_TIMEOUT:-60}

log() { echo "postgres.sh: $*" >&2; }
die() { echo "postgres.sh: ERROR: $*" >&2; exit 1; }

[[ ${1:-} == ensure ]] || { echo "usage: $0 ensure" >&2; exit 2; }

if ! command -v psql >/dev/null 2>&1 || ! command -v pg_isready >/dev/null 2>&1; then
  die "psql/pg_isready not found; run scripts/install-deps.sh (package postgresql)"
fi

# psql without any stored password, so that success really means trust auth.
# Prints psql's error message (stderr) and discards its output.
try_login() {
  # shellcheck disable=SC2069 # on purpose: stderr to the capture, stdout away
  PGPASSFILE=/nonexistent/tributary.pgpass PGPASSWORD='' PGCONNECT_TIMEOUT=3 \
    psql -w -X -h "$HOST" -p "$PORT" -U postgres -d postgres -Atqc 'select 1' 2>&1 >/dev/null
}
answers() { pg_isready -q -h "$HOST" -p "$PORT" -t 2; }

# The Debian cluster ("VERSION NAME") configured for our port, if any.
cluster_on_port() {
  command -v pg_lsclusters >/dev/null 2>&1 || return 0
  pg_lsclusters -h 2>/dev/null | awk -v p="$PORT" '$3 == p { print $1, $2; exit }'
}

wait_answers() {
  local deadline=$((SECONDS + TIMEOUT))
  log "waiting up to ${TIMEOUT} s for PostgreSQL to accept connections on $HOST:$PORT ..."
  until answers; do
    (( SECONDS < deadline )) || die "gave up after ${TIMEOUT} s waiting for PostgreSQL on $HOST:$PORT (pg_lsclusters: $(pg_lsclusters -h 2>/dev/null | tr '\n' ';'))"
    sleep 0.5
  done
}

if err=$(try_login); then
  log "PostgreSQL answers on $HOST:$PORT with trust auth"
  echo "$URL"
  exit 0
fi

if ! answers; then
  command -v pg_ctlcluster >/dev/null 2>&1 \
    || die "nothing answers on $HOST:$PORT and pg_ctlcluster is missing; run scripts/install-deps.sh (package postgresql)"
  cluster=$(cluster_on_port)
  if [[ -z $cluster ]]; then
    if [[ -n $(pg_lsclusters -h 2>/dev/null) ]]; then
      die "nothing answers on $HOST:$PORT and no cluster is configured for port $PORT (pg_lsclusters: $(pg_lsclusters -h | tr '\n' ';')); fix that by hand"
    fi
    version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
    [[ -n $version ]] || die "no PostgreSQL server binaries under /usr/lib/postgresql; run scripts/install-deps.sh"
    log "no PostgreSQL cluster exists; creating $version/main on port $PORT with trust auth"
    pg_createcluster "$version" main -p "$PORT" -- --auth=trust >&2
    cluster="$version main"
  fi
  log "starting cluster $cluster"
  # shellcheck disable=SC2086 # "VERSION NAME" splits on purpose
  pg_ctlcluster --skip-systemctl-redirect $cluster start >&2 \
    || die "pg_ctlcluster $cluster start failed (log: /var/log/postgresql/postgresql-${cluster/ /-}.log)"
  wait_answers
fi

if ! err=$(try_login); then
  cluster=$(cluster_on_port)
  hba=/etc/postgresql/${cluster/ //}/pg_hba.conf
  if [[ -n $cluster && -w $hba ]] && ! grep -q 'added by tributary scripts/postgres.sh' "$hba"; then
    log "PostgreSQL on $HOST:$PORT refused passwordless login ($err)"
    log "adding trust for 127.0.0.1/32 and ::1/128 at the top of $hba and reloading"
    { printf '%s\n' \
        '# added by tributary scripts/postgres.sh: passwordless local TCP logins for tests' \
        'host all all 127.0.0.1/32 trust' \
        'host all all ::1/128 trust'
      cat "$hba"; } >"$hba.tributary.tmp"
    chown --reference="$hba" "$hba.tributary.tmp" 2>/dev/null || true
    chmod --reference="$hba" "$hba.tributary.tmp" 2>/dev/null || true
    mv "$hba.tributary.tmp" "$hba"
    # shellcheck disable=SC2086
    pg_ctlcluster --skip-systemctl-redirect $cluster reload >&2
    for _ in 1 2 3 4 5 6 7 8 9 10; do   # reload is asynchronous
      try_login >/dev/null && break
      sleep 0.5
    done
  fi
  err=$(try_login) || die "PostgreSQL answers on $HOST:$PORT but user postgres can't log in without a password: $err"
fi

log "PostgreSQL answers on $HOST:$PORT with trust auth"
echo "$URL"
