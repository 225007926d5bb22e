#!/usr/bin/env bash
# Installs what the test suite needs and runs every test.
#
# Installs, when missing: the Python peers (moto's server, boto3, awscli), cargo-nextest,
# Debian's chromium and the npm packages of the browser test. Starts the local
# PostgreSQL server when it does not respond on 127.0.0.1:5432.
#
# Environment:
#   CARGO_TARGET_DIR            build directory (default: /work/target when /work exists,
#                               else ./target)
#   MUSTER_TEST_POSTGRES_URL    PostgreSQL for the storage tests
#                               (default postgres://postgres@127.0.0.1:5432/test)
#   MUSTER_SKIP_INSTALL=1       skip the installation steps
#   MUSTER_SKIP_E2E=1           skip the browser test
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  if [ -d /work ] && [ -w /work ]; then
    export CARGO_TARGET_DIR=/work/target
  else
    export CARGO_TARGET_DIR="$root/target"
  fi
fi

# Tests talk only to servers they start on 127.0.0.1: never let an AWS SDK reach real
# endpoints or the instance metadata service.
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE

step() { printf '\n==> %s\n' "$*"; }

install_dependencies() {
  step "Python test peers"
  # pip only checks the pins when everything is already installed, so this is quick.
  python3 -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt

  step "cargo-nextest"
  if ! cargo nextest --version >/dev/null 2>&1; then
    cargo install --locked cargo-nextest
  fi

  if [ "${MUSTER_SKIP_E2E:-0}" != 1 ]; then
    step "Chromium and playwright-core for the browser test"
    if ! command -v chromium >/dev/null; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

start_postgres() {
  step "PostgreSQL"
  if pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1; then
    echo "PostgreSQL is running"
    return
  fi
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  fi
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 >/dev/null 2>&1 && return
    sleep 1
  done
  echo "PostgreSQL does not answer on 127.0.0.1:5432; set MUSTER_TEST_POSTGRES_URL" >&2
  exit 1
}

if [ "${MUSTER_SKIP_INSTALL:-0}" != 1 ]; then
  install_dependencies
fi
start_postgres

step "Rust tests (cargo nextest)"
cargo build --workspace --bins
cargo nextest run --workspace --no-fail-fast

if [ "${MUSTER_SKIP_E2E:-0}" != 1 ]; then
  step "Browser test (Chromium)"
  MUSTER_BIN="$CARGO_TARGET_DIR/debug/muster" node --test tests/e2e/ui.test.mjs
fi
