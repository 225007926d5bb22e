#!/usr/bin/env bash
# Benchmark: Muster's policy analysis against Cloudsplaining and PMapper, in one run.
#
# 1. Muster's full analysis (load, analyse every principal, write JSON) against
#    `cloudsplaining scan` on the same `get-account-authorization-details` file, for two
#    inputs: the 2,000-user / 500-role / 50-group / 300-policy account built in moto by
#    bench/build_large_account.py and dumped with awscli, and a generated file of 20,000
#    principals (15,000 users, 5,000 roles) written by the analyze_synthetic example.
# 2. `pmapper graph create` against Muster on a smaller moto account (200 users, 50 roles,
#    10 groups, 30 policies). PMapper reads the account from moto itself, so Muster's time
#    is given both alone and with the awscli download of the same account.
#
# Muster runs as `muster analyze FILE --output json` when MUSTER_BIN names a binary that
# has that command, else as the analyze_file example of muster-policy (the same engine
# calls, without the CLI). Times are wall-clock seconds and peak RSS from
# `/usr/bin/time -f '%e %M'`.
#
# Usage: bench/policy_analysis.sh [RUNS]   (default 3 runs of each tool on each input)
#        INPUTS="large" bench/policy_analysis.sh 3   (only the moto account: Cloudsplaining
#        takes about 7 minutes a run on the synthetic file)
# Needs: moto_server, boto3, awscli, principalmapper 1.1.5 and cloudsplaining
#        (scripts/requirements-test.txt), /usr/bin/time.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
runs=${1:-3}
inputs=${INPUTS:-large synthetic}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target}
# Every AWS client below talks to the local emulator with fake credentials only.
export AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN

cargo build --release -p muster-policy --example analyze_file --example analyze_synthetic
# muster_command INPUT: the Muster command line that analyses INPUT and writes the JSON
# analysis to standard output (paths without spaces).
if [ -n "${MUSTER_BIN:-}" ] && "$MUSTER_BIN" analyze --help >/dev/null 2>&1; then
  muster_mode="muster analyze FILE --output json ($MUSTER_BIN)"
  muster_command() { echo "$MUSTER_BIN" analyze "$1" --output json --data-dir "$work/data"; }
  example=0
else
  muster_mode="analyze_file example of muster-policy"
  example=1
  muster_command() { echo "$CARGO_TARGET_DIR/release/examples/analyze_file" "$1"; }
fi
pmapper=(python3 "$root/crates/muster-policy/tests/fixtures/run_pmapper.py")

work=$(mktemp -d)
moto_pids=()
cleanup() {
  for pid in "${moto_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# PMapper stores its graphs under $HOME; keep them in the scratch directory.
export HOME="$work/home"
mkdir -p "$HOME"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Starts moto on a free port and sets AWS_ENDPOINT_URL to it.
start_moto() {
  local port
  port=$(free_port)
  MOTO_IAM_LOAD_MANAGED_POLICIES=true moto_server -H 127.0.0.1 -p "$port" >"$work/moto-$port.log" 2>&1 &
  moto_pids+=($!)
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -sf "$AWS_ENDPOINT_URL/moto-api/" >/dev/null && return; sleep 0.2; done
  echo "moto_server did not start; see $work/moto-$port.log" >&2
  exit 1
}

# Reads the authorization details in $1, fills in the fields that Cloudsplaining reads
# and the input leaves out, and writes them to $2. moto 5.2.1 omits PolicyName and
# PolicyId, which are taken from the policy ARN. The analyze_synthetic example omits
# Path, which gets the IAM default "/".
complete_details() {
  python3 - "$1" "$2" <<'PY'
import json, sys
details = json.load(open(sys.argv[1]))
for policy in details["Policies"]:
    name = policy["Arn"].rsplit("/", 1)[-1]
    policy.setdefault("PolicyName", name)
    policy.setdefault("PolicyId", "ANPA" + name.upper().replace("-", "").replace("_", ""))
for key in ["Policies", "UserDetailList", "GroupDetailList", "RoleDetailList"]:
    for entity in details.get(key, []):
        entity.setdefault("Path", "/")
json.dump(details, open(sys.argv[2], "w"))
PY
}

# measure OUT COMMAND...: runs COMMAND under /usr/bin/time with its standard output in
# OUT and its standard error in $work/last.log, and sets `seconds` and `peak_mb`.
measure() {
  local out=$1
  shift
  /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >"$out" 2>"$work/last.log" || {
    echo "failed: $*" >&2
    tail -20 "$work/last.log" >&2
    exit 1
  }
  read -r seconds peak_kb <"$work/time.txt"
  peak_mb=$((peak_kb / 1024))
}

principals() {
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(len(d['UserDetailList']) + len(d['RoleDetailList']))" "$1"
}

echo "Muster: $muster_mode"
echo "Cloudsplaining: $(cloudsplaining --version)"
echo "Machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr)"

echo
echo "Building the 2,000-user account in moto..."
start_moto
python3 bench/build_large_account.py "$AWS_ENDPOINT_URL" >/dev/null
aws iam get-account-authorization-details --output json >"$work/large.raw.json"
complete_details "$work/large.raw.json" "$work/large.json"

echo "Generating the 20,000-principal file..."
MUSTER_WRITE_ACCOUNT="$work/synthetic.raw.json" \
  "$CARGO_TARGET_DIR/release/examples/analyze_synthetic" 15000 5000 >/dev/null
complete_details "$work/synthetic.raw.json" "$work/synthetic.json"

echo
for input in $inputs; do
  echo "$input.json: $(principals "$work/$input.json") principals, $(du -m "$work/$input.json" | cut -f1) MB"
done
echo
echo "| input | run | Muster s | Muster peak RSS MB | Cloudsplaining s | Cloudsplaining peak RSS MB | ratio |"
echo "|---|---|---|---|---|---|---|"
phases=""
for input in $inputs; do
  file="$work/$input.json"
  mkdir -p "$work/$input-cloudsplaining"
  for run in $(seq 1 "$runs"); do
    # shellcheck disable=SC2046 # the command line is split on purpose
    measure "$work/$input-muster.json" $(muster_command "$file")
    muster_s=$seconds muster_mb=$peak_mb
    # The example reports its phase times on its last line of standard error.
    if [ "$example" = 1 ]; then
      phases+="$input run $run: $(tail -n 1 "$work/last.log")"$'\n'
    fi
    measure /dev/null cloudsplaining scan --input-file "$file" \
      --output "$work/$input-cloudsplaining" --skip-open-report
    ratio=$(python3 -c "print(f'{$seconds / max($muster_s, 0.01):.0f}')")
    echo "| $input | $run | $muster_s | $muster_mb | $seconds | $peak_mb | ${ratio}× |"
  done
done
if [ -n "$phases" ]; then
  echo
  echo "Muster's own report of each run:"
  printf '%s' "$phases"
fi

echo
echo "Building the 250-principal account in a second moto..."
start_moto
python3 bench/build_large_account.py "$AWS_ENDPOINT_URL" --users 200 --roles 50 --groups 10 \
  --policies 30 >/dev/null
echo
echo "| step | seconds | peak RSS MB |"
echo "|---|---|---|"
measure /dev/null "${pmapper[@]}" graph create --localstack-endpoint "$AWS_ENDPOINT_URL"
pm_s=$seconds
echo "| pmapper graph create | $pm_s | $peak_mb |"
measure "$work/small.raw.json" aws iam get-account-authorization-details --output json
dump_s=$seconds
echo "| awscli get-account-authorization-details | $dump_s | $peak_mb |"
complete_details "$work/small.raw.json" "$work/small.json"
# shellcheck disable=SC2046
measure "$work/small-muster.json" $(muster_command "$work/small.json")
muster_s=$seconds
echo "| Muster analysis ($(principals "$work/small.json") principals) | $muster_s | $peak_mb |"
python3 -c "
pm, dump, muster = $pm_s, $dump_s, $muster_s
print(f'PMapper / Muster analysis: {pm / max(muster, 0.01):.0f}x; '
      f'PMapper / (awscli download + Muster analysis): {pm / (dump + muster):.1f}x')"
