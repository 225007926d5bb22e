#!/usr/bin/env bash
# Benchmark: `muster sync` against a plain paginated awscli read of the same account, in
# one run on the same moto emulator.
#
# Baseline: `aws iam get-account-authorization-details` (awscli paginates by itself) plus
# generate-credential-report and get-credential-report. Muster does the same calls and
# per-user access key and MFA calls, then writes a snapshot to SQLite.
#
# Usage: bench/aws_sync.sh [RUNS]   (default 3 runs of each, alternating)
#        MUSTER_BIN=path/to/muster bench/aws_sync.sh   (use an existing release binary)
# Needs: moto_server, boto3 and awscli (scripts/requirements-test.txt), /usr/bin/time.
set -euo pipefail

cd "$(dirname "$0")/.."
runs=${1:-3}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target}
export AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE

# MUSTER_BIN skips the build and uses that binary.
if [ -z "${MUSTER_BIN:-}" ]; then
  cargo build --release -p muster
fi
muster=${MUSTER_BIN:-$CARGO_TARGET_DIR/release/muster}

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MOTO_IAM_LOAD_MANAGED_POLICIES=true moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null; rm -rf "$work"' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
for _ in $(seq 1 50); do curl -sf "$AWS_ENDPOINT_URL/moto-api/" >/dev/null && break; sleep 0.2; done

echo "Building the fixture account (2,000 users, 500 roles, 50 groups, 300 policies)..."
python3 bench/build_large_account.py "$AWS_ENDPOINT_URL"

"$muster" --data-dir "$work/data" integration add aws --name bench --owner bench@example.com \
  --access-key-id AKIAIOSFODNN7EXAMPLE --secret-access-key testing >/dev/null

seconds() { python3 -c 'import time; print(time.monotonic())'; }

for run in $(seq 1 "$runs"); do
  start=$(seconds)
  aws iam get-account-authorization-details --output json >"$work/gaad.json"
  aws iam generate-credential-report --output json >/dev/null
  until aws iam get-credential-report --output json >"$work/report.json" 2>/dev/null; do sleep 0.5; done
  end=$(seconds)
  awscli=$(python3 -c "print(f'{$end - $start:.2f}')")

  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$muster" --data-dir "$work/data" sync bench >/dev/null
  read -r muster_seconds muster_kb <"$work/time.txt"
  ratio=$(python3 -c "print(f'{$muster_seconds / $awscli:.2f}')")
  echo "run $run: awscli ${awscli}s, muster ${muster_seconds}s (peak RSS $((muster_kb / 1024)) MB), ratio $ratio"
done
ls -l "$work/gaad.json" | awk '{print "GetAccountAuthorizationDetails output:", $5, "bytes"}'
