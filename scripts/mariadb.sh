#!/usr/bin/env bash
# scripts/mariadb.sh — a PRIVATE, binlog-enabled MariaDB server for Tributary's
# tests (CDC needs the binlog; the machine's own MariaDB on 3306 has it off).
#
# Usage:
#   scripts/mariadb.sh start  NAME PORT [extra mariadbd args...]
#   scripts/mariadb.sh stop   NAME PORT
#   scripts/mariadb.sh status NAME PORT     # prints running/stopped; exit 0 / 3
#   scripts/mariadb.sh kill9  NAME PORT     # SIGKILL the server (fault tests)
#
# Example:
#   scripts/mariadb.sh start cdc 3317
#   scripts/mariadb.sh start old 3318 --version=5.7.19-log
#
# Each NAME has its own directory, ${TRIBUTARY_STATE_DIR:-<repo>/.state}/mariadb-NAME/,
# holding data/ (datadir, binlogs included), tmp/ (its own tmpdir), mariadbd.sock, mariadbd.pid,
# mariadbd.err (error log) and port. Data persists across stop/start; delete
# the directory (while stopped) for a fresh server.
#
# The server listens on 127.0.0.1:PORT only, runs as root (--user=root), with
# root@127.0.0.1 / root@localhost having an EMPTY password, and a user
# tributary/tributary ('%' and 'localhost') with ALL PRIVILEGES (replication
# included) WITH GRANT OPTION. Binlog: ROW format, FULL row image, server id 1,
# gtid_strict_mode off. Extra args are appended to mariadbd's command line, so
# they override the defaults below (they're not passed to mariadb-install-db).
#
# Environment:
#   TRIBUTARY_STATE_DIR               where state lives (default <repo>/.state)
#   TRIBUTARY_MARIADB_START_TIMEOUT   seconds to wait for the server (default 60)
set -euo pipefail

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 3 ]] || usage
CMD=$1 NAME=$2 PORT=$3
shift 3
[[ $NAME =~ ^[A-Za-z0-9_-]+$ ]] || { echo "mariadb.sh: bad NAME '$NAME' (letters, digits, _ and - only)" >&2; exit 2; }
if ! [[ $PORT =~ ^[0-9]+$ ]] || (( PORT < 1 || PORT > 65535 )); then
  echo "mariadb.sh: bad PORT '$PORT'" >&2; exit 2
fi

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${TRIBUTARY_STATE_DIR:-$REPO/.state}
[[ $STATE_DIR == /* ]] || STATE_DIR=$PWD/$STATE_DIR   # mariadbd resolves relative paths against its datadir
DIR=$STATE_DIR/mariadb-$NAME
DATADIR=$DIR/data
PIDFILE=$DIR/mariadbd.pid
ERRLOG=$DIR/mariadbd.err
PORTFILE=$DIR/port
# A tmpdir of its own: a starting mariadbd deletes every #sql* file in its tmpdir, including
# the temporary tables of other servers sharing it ("Error on delete of
# '/tmp/#sql-temptable-….MAI'" in a running server, "Unknown table 'mysql.tmp_user_sys'" in a
# bootstrap, when another private server starts meanwhile).
TMPDIR_DB=$DIR/tmp
SOCK=$DIR/mariadbd.sock
# Unix socket paths are limited to 107 bytes; fall back to /tmp for deep checkouts.
if (( ${#SOCK} > 100 )); then
  SOCK=/tmp/tributary-mariadb-$NAME-$(printf '%s' "$DIR" | md5sum | cut -c1-8).sock
fi
TIMEOUT=${TRIBUTARY_MARIADB_START_TIMEOUT:-60}

log() { echo "mariadb.sh[$NAME]: $*"; }
die() { echo "mariadb.sh[$NAME]: ERROR: $*" >&2; exit 1; }

find_bin() {  # find_bin NAME: a binary on PATH or in /usr/sbin, /usr/bin
  local b
  for b in "$(command -v "$1" 2>/dev/null || true)" "/usr/sbin/$1" "/usr/bin/$1"; do
    [[ -n $b && -x $b ]] && { echo "$b"; return 0; }
  done
  return 1
}
MARIADBD=$(find_bin mariadbd) || die "mariadbd not found; run scripts/install-deps.sh (package mariadb-server)"
INSTALL_DB=$(find_bin mariadb-install-db) || die "mariadb-install-db not found; run scripts/install-deps.sh"
CLIENT=$(find_bin mariadb) || die "mariadb (client) not found; run scripts/install-deps.sh (package mariadb-client)"
ADMIN=$(find_bin mariadb-admin) || die "mariadb-admin not found; run scripts/install-deps.sh (package mariadb-client)"

# The pid of THIS instance's mariadbd, or nothing. The pid file is written
# only once startup is well along (after crash recovery), so also look for a
# mariadbd whose command line names our datadir.
server_pid() {
  local pid dir
  if [[ -s $PIDFILE ]]; then
    pid=$(<"$PIDFILE")
    if [[ $pid =~ ^[0-9]+$ ]] && is_ours "$pid"; then
      echo "$pid"; return 0
    fi
  fi
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    if is_ours "$pid"; then
      echo "$pid"; return 0
    fi
  done
  return 0
}

is_ours() {  # is_ours PID: a live mariadbd started with our datadir
  local comm=""
  read -r comm 2>/dev/null <"/proc/$1/comm" || return 1
  [[ $comm == mariadbd ]] || return 1
  [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]] || return 1
  tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "--datadir=$DATADIR"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# root over TCP, exactly as the tests connect (mysql://root@127.0.0.1:PORT).
sql_tcp() { "$CLIENT" --no-defaults --protocol=TCP -h127.0.0.1 -P"$PORT" -uroot --connect-timeout=3 "$@"; }

lock() {  # serialize start/stop/kill9 of one NAME (fd 9 is closed for mariadbd)
  mkdir -p "$DIR"
  exec 9>"$DIR/.lock"
  flock -w 120 9 || die "could not lock $DIR/.lock within 120 s"
}

wait_gone() {  # wait_gone PID SECONDS
  local pid=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    [[ -e /proc/$pid ]] || return 0
    # a zombie counts as gone
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
    sleep 0.1
  done
  return 1
}

wait_ready() {
  local deadline=$((SECONDS + TIMEOUT)) err=""
  log "waiting up to ${TIMEOUT} s for mariadbd to answer \"select 1\" as root on 127.0.0.1:$PORT ..."
  while (( SECONDS < deadline )); do
    if err=$(sql_tcp -e 'select 1' 2>&1 >/dev/null); then
      return 0
    fi
    if [[ -z $(server_pid) ]]; then
      echo "---- last lines of $ERRLOG ----" >&2
      tail -n 30 "$ERRLOG" >&2 || true
      die "mariadbd exited during startup (see $ERRLOG)"
    fi
    sleep 0.5
  done
  echo "---- last lines of $ERRLOG ----" >&2
  tail -n 30 "$ERRLOG" >&2 || true
  die "gave up after ${TIMEOUT} s waiting for mariadbd to answer \"select 1\" as root on 127.0.0.1:$PORT (last client error: ${err:-none})"
}

ensure_users() {
  # sql_log_bin=0: keep our own setup out of the binlog that CDC tests read.
  sql_tcp <<'SQL'
SET SESSION sql_log_bin = 0;
CREATE USER IF NOT EXISTS 'tributary'@'%' IDENTIFIED BY 'tributary';
CREATE USER IF NOT EXISTS 'tributary'@'localhost' IDENTIFIED BY 'tributary';
ALTER USER 'tributary'@'%' IDENTIFIED BY 'tributary';
ALTER USER 'tributary'@'localhost' IDENTIFIED BY 'tributary';
GRANT ALL PRIVILEGES ON *.* TO 'tributary'@'%' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'tributary'@'localhost' WITH GRANT OPTION;
SQL
}

init_datadir() {
  local tmp=$DIR/data.init
  log "initializing datadir $DATADIR"
  rm -rf "$tmp"
  mkdir -p "$TMPDIR_DB"
  # normal auth: root gets an empty password (root@localhost, @127.0.0.1, @::1).
  # The bootstrap server gets the private tmpdir too (it is passed on to mariadbd).
  if ! "$INSTALL_DB" --no-defaults --datadir="$tmp" --user=root \
        --auth-root-authentication-method=normal --skip-test-db \
        --tmpdir="$TMPDIR_DB" \
        >"$DIR/install-db.log" 2>&1; then
    # The server's own errors come before the script's long advice: show those first.
    grep -E 'ERROR' "$DIR/install-db.log" | head -n 20 >&2 || true
    tail -n 30 "$DIR/install-db.log" >&2
    die "mariadb-install-db failed (see $DIR/install-db.log)"
  fi
  mv "$tmp" "$DATADIR"   # only a complete datadir gets the real name
}

do_start() {
  lock
  local pid running_port
  pid=$(server_pid)
  if [[ -n $pid ]]; then
    running_port=$(cat "$PORTFILE" 2>/dev/null || echo '?')
    [[ $running_port == "$PORT" ]] \
      || die "already running (pid $pid) on port $running_port, not $PORT; stop it first"
    wait_ready
    ensure_users
    log "already running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  if port_open "$PORT"; then
    local holder
    holder=$(ss -ltnpH "sport = :$PORT" 2>/dev/null | grep -o 'users:.*' | head -n 1 || true)
    die "port $PORT on 127.0.0.1 is taken by another process (not mariadb-$NAME under $STATE_DIR)${holder:+: $holder}; stop it or pick another port"
  fi

  [[ -d $DATADIR/mysql ]] || init_datadir
  mkdir -p "$TMPDIR_DB"   # datadirs made before the private tmpdir existed
  rm -f "$PIDFILE" "$SOCK"   # stale after a kill -9
  echo "$PORT" >"$PORTFILE"

  log "starting mariadbd on 127.0.0.1:$PORT (datadir $DATADIR, log $ERRLOG)"
  # Sizing for a 2-core / 24 GB box shared with cargo. The tests don't need
  # the test database itself to be durable across a machine crash, so
  # innodb_flush_log_at_trx_commit=2 and sync_binlog=0 trade that away for
  # speed (a kill -9 of mariadbd alone still loses nothing committed to the
  # OS). Character set matches Debian's packaged configuration.
  setsid "$MARIADBD" --no-defaults \
    --user=root \
    --datadir="$DATADIR" \
    --tmpdir="$TMPDIR_DB" \
    --port="$PORT" \
    --bind-address=127.0.0.1 \
    --socket="$SOCK" \
    --pid-file="$PIDFILE" \
    --log-error="$ERRLOG" \
    --skip-name-resolve \
    --log-bin=binlog \
    --binlog-format=ROW \
    --binlog-row-image=FULL \
    --binlog-row-metadata=FULL \
    --server-id=1 \
    --gtid-strict-mode=OFF \
    --binlog-expire-logs-seconds=604800 \
    --innodb-buffer-pool-size=256M \
    --innodb-flush-log-at-trx-commit=2 \
    --sync-binlog=0 \
    --max-connections=300 \
    --max-allowed-packet=256M \
    --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_general_ci \
    "$@" \
    </dev/null >>"$DIR/mariadbd.out" 2>&1 9>&- &
  disown || true

  wait_ready
  ensure_users
  log "running (pid $(server_pid)) on 127.0.0.1:$PORT — mysql://root@127.0.0.1:$PORT , mysql://tributary:tributary@127.0.0.1:$PORT"
}

do_stop() {
  lock
  local pid
  pid=$(server_pid)
  if [[ -z $pid ]]; then
    log "not running"
    return 0
  fi
  log "stopping mariadbd (pid $pid) ..."
  # Clean shutdown via the socket (then TCP); fall back to SIGTERM, which is
  # also a clean shutdown for mariadbd; SIGKILL only as a last resort.
  "$ADMIN" --no-defaults --socket="$SOCK" -uroot --connect-timeout=5 shutdown >/dev/null 2>&1 \
    || "$ADMIN" --no-defaults --protocol=TCP -h127.0.0.1 -P"$(cat "$PORTFILE" 2>/dev/null || echo "$PORT")" \
         -uroot --connect-timeout=5 shutdown >/dev/null 2>&1 \
    || kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" 60; then
    log "still running after 60 s of waiting for a clean shutdown; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "pid $pid would not die"
  fi
  log "stopped"
}

do_kill9() {
  lock
  local pid
  pid=$(server_pid)
  if [[ -z $pid ]]; then
    log "not running"
    return 0
  fi
  kill -KILL "$pid"
  wait_gone "$pid" 10 || die "pid $pid still there 10 s after SIGKILL"
  log "killed (SIGKILL) pid $pid"
}

do_status() {
  local pid
  pid=$(server_pid)
  if [[ -n $pid ]]; then
    echo "running (pid $pid, port $(cat "$PORTFILE" 2>/dev/null || echo '?'), datadir $DATADIR)"
    return 0
  fi
  echo "stopped"
  return 3
}

case "$CMD" in
  start)  do_start "$@" ;;
  stop)   do_stop ;;
  status) do_status ;;
  kill9)  do_kill9 ;;
  *)      usage ;;
esac
