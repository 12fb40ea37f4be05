#!/usr/bin/env bash
# Installs the Debian packages SK Inventory builds and tests with (DESIGN.md section 3).
# Idempotent: does nothing when every package is already installed, so `make run` and
# `make test` can call it on every invocation. `--test` adds what only the test suite
# needs (headless Chromium for the /docs page test), `--valgrind` what
# `make bench-instructions` needs.
set -euo pipefail

PACKAGES=(
  postgresql-15 postgresql-server-dev-15 libpq-dev
  libssl-dev libmicrohttpd-dev libcurl4-openssl-dev
  postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
  libgtest-dev nlohmann-json3-dev wrk postgresql-15-plproxy
  g++ cmake make pkg-config curl jq nodejs npm
)
case "${1:-}" in
  --test) PACKAGES+=(chromium) ;;
  --valgrind) PACKAGES+=(valgrind) ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm may come from outside Debian on some machines; only ask apt when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  keep=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || keep+=("$p"); done
  missing=("${keep[@]+"${keep[@]}"}")
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
