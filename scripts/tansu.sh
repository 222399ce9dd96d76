#!/usr/bin/env bash
# scripts/tansu.sh — a separate Kafka-protocol broker process (tansu 0.6.0) for
# end-to-end tests and benchmarks that need a broker outside the test process.
#
# Usage:
#   scripts/tansu.sh install                     # build once, cached (~13 min on 2 cores)
#   scripts/tansu.sh path                        # print the binary's path (installs if missing)
#   scripts/tansu.sh start  NAME PORT [memory|sqlite]
#   scripts/tansu.sh stop   NAME
#   scripts/tansu.sh kill9  NAME                 # SIGKILL the broker (fault tests)
#
# The binary is cached in ${TRIBUTARY_TOOLS_DIR:-$HOME/.cache/tributary}/tansu-0.6.0/bin.
# Each NAME has its own directory ${TRIBUTARY_STATE_DIR:-<repo>/.state}/tansu-NAME/ with
# tansu.log and tansu.pid; the broker's working directory is that folder, so with the
# sqlite engine its data (tansu.db, a path relative to the working directory) survives a
# kill -9 and a restart under the same NAME.
#
# tansu does not auto-create topics (create them first, or set
# topic.creation.default.* on source connectors) and does not commit transactions.
set -euo pipefail

VERSION=0.6.0
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${TRIBUTARY_TOOLS_DIR:-$HOME/.cache/tributary}/tansu-$VERSION
BIN=$TOOLS/bin/tansu
STATE_DIR=${TRIBUTARY_STATE_DIR:-$REPO/.state}

log() { echo "tansu.sh: $*" >&2; }
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

install() {
  if [[ -x $BIN ]]; then return 0; fi
  command -v cargo > /dev/null || { log "cargo is needed to build tansu"; exit 1; }
  log "building tansu $VERSION into $TOOLS (once; about 13 min on 2 cores) ..."
  mkdir -p "$TOOLS"
  cargo install --locked tansu --version "$VERSION" --features dynostore,libsql \
    --root "$TOOLS" >&2 || cargo install tansu --version "$VERSION" \
    --features dynostore,libsql --root "$TOOLS" >&2
  [[ -x $BIN ]] || { log "cargo install finished without $BIN"; exit 1; }
}

pid_of() { cat "$STATE_DIR/tansu-$1/tansu.pid" 2> /dev/null || true; }

start() {
  local name=$1 port=$2 engine=${3:-memory} dir storage pid
  install
  dir=$STATE_DIR/tansu-$name
  mkdir -p "$dir"
  pid=$(pid_of "$name")
  if [[ -n $pid ]] && kill -0 "$pid" 2> /dev/null; then
    log "$name already running (pid $pid)"; return 0
  fi
  case $engine in
    memory) storage=memory://tansu/ ;;
    sqlite) storage=sqlite://tansu.db ;;
    *) log "unknown storage engine '$engine' (memory or sqlite)"; exit 2 ;;
  esac
  (cd "$dir" && exec "$BIN" broker \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "$storage" >> tansu.log 2>&1) &
  echo $! > "$dir/tansu.pid"
  for _ in $(seq 1 100); do
    if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      log "$name running (pid $(pid_of "$name")) on 127.0.0.1:$port, storage $storage"
      return 0
    fi
    kill -0 "$(pid_of "$name")" 2> /dev/null || { tail -20 "$dir/tansu.log" >&2; exit 1; }
    sleep 0.1
  done
  log "$name did not listen on 127.0.0.1:$port within 10 s; see $dir/tansu.log"
  exit 1
}

stop() {
  local pid; pid=$(pid_of "$1")
  [[ -n $pid ]] || return 0
  kill "${2:--TERM}" "$pid" 2> /dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2> /dev/null || true
  rm -f "$STATE_DIR/tansu-$1/tansu.pid"
}

[[ $# -ge 1 ]] || usage
case $1 in
  install) install ;;
  path) install; echo "$BIN" ;;
  start) [[ $# -ge 3 ]] || usage; start "$2" "$3" "${4:-memory}" ;;
  stop) [[ $# -ge 2 ]] || usage; stop "$2" ;;
  kill9) [[ $# -ge 2 ]] || usage; stop "$2" -KILL ;;
  *) usage ;;
esac
