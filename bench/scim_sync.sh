#!/usr/bin/env bash
# Benchmark: the SCIM connector's extract against a plain curl paging loop over the same
# endpoints, in one run on the same scim2-server.
#
# Both read /Users and /Groups (excludedAttributes=members) 100 at a time, sorted by id
# as the connector asks when the server supports sorting, then each group by id for its
# members, one request after another for curl. Two more baselines are printed: the same
# requests without sorting, and a naive loop that lists groups with their members inline
# and reads no group by id.
#
# Usage: bench/scim_sync.sh [RUNS]   (default 3 runs of each, alternating)
# Needs: scim2-server (scripts/requirements-test.txt), curl, python3.
set -euo pipefail

cd "$(dirname "$0")/.."
runs=${1:-3}
users=${SCIM_BENCH_USERS:-10000}
groups=${SCIM_BENCH_GROUPS:-500}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target}
export SCIM_TOKEN=bench-token

cargo build --release -p muster-scim --example scim_extract
extract=$CARGO_TARGET_DIR/release/examples/scim_extract

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
scim2-server --hostname 127.0.0.1 --port "$port" --bearer-token "$SCIM_TOKEN" >"$work/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$base/ServiceProviderConfig" >/dev/null && break; sleep 0.2; done

echo "Seeding $users users and $groups groups through /Bulk..."
python3 - "$base" "$users" "$groups" <<'PY'
import json, sys, urllib.request

base, users, groups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def bulk(operations):
    body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations}).encode()
    request = urllib.request.Request(base + "/Bulk", data=body, headers={"Authorization": "Bearer bench-token", "Content-Type": "application/scim+json"})
    answer = json.load(urllib.request.urlopen(request, timeout=600))
    return [result["location"].rsplit("/", 1)[1] for result in answer["Operations"]]

ids = []
for first in range(0, users, 1000):
    ids += bulk([{"method": "POST", "path": "/Users", "bulkId": f"u{i}", "data": {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"user{i:05d}@example.com",
        "displayName": f"User {i}", "active": i % 10 != 0,
        "emails": [{"value": f"user{i:05d}@example.com", "primary": True}]}}
        for i in range(first, min(first + 1000, users))])
for first in range(0, groups, 100):
    bulk([{"method": "POST", "path": "/Groups", "bulkId": f"g{g}", "data": {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": f"group-{g:04d}",
        "members": [{"value": ids[i]} for i in range(g, users, groups)]}}
        for g in range(first, min(first + 100, groups))])
PY

auth="Authorization: Bearer $SCIM_TOKEN"

# Pages one listing with curl and prints its bodies.
page_all() {
  local path=$1 extra=$2 start=1 total
  total=$(curl -sf -H "$auth" "$base$path?${extra}startIndex=1&count=100" | tee -a "$work/out" |
    grep -o '"totalResults": *[0-9]*' | grep -o '[0-9]*$')
  start=101
  while [ "$start" -le "$total" ]; do
    curl -sf -H "$auth" "$base$path?${extra}startIndex=$start&count=100" >>"$work/out"
    start=$((start + 100))
  done
}

# The connector's requests without `sortBy=id`.
curl_unsorted() {
  : >"$work/out"
  page_all /Users ""
  page_all /Groups "excludedAttributes=members&"
  grep -o '"id": "[0-9a-f]*"' "$work/out" | tail -n "$groups" | cut -d'"' -f4 >"$work/group_ids"
  while read -r id; do curl -sf -H "$auth" "$base/Groups/$id" >/dev/null; done <"$work/group_ids"
}

# The connector's requests: it adds `sortBy=id` when the server announces sorting, as
# scim2-server does (a stable order keeps pages from overlapping or skipping).
curl_same_requests() {
  : >"$work/out"
  page_all /Users "sortBy=id&sortOrder=ascending&"
  page_all /Groups "sortBy=id&sortOrder=ascending&excludedAttributes=members&"
  grep -o '"id": "[0-9a-f]*"' "$work/out" | tail -n "$groups" | cut -d'"' -f4 >"$work/group_ids"
  while read -r id; do curl -sf -H "$auth" "$base/Groups/$id" >/dev/null; done <"$work/group_ids"
}

curl_naive() {
  : >"$work/out"
  page_all /Users ""
  page_all /Groups ""
}

seconds() { python3 -c 'import time; print(time.monotonic())'; }
time_it() { local start end; start=$(seconds); "$@" >/dev/null; end=$(seconds); python3 -c "print(f'{$end - $start:.2f}')"; }

echo "run,muster_extract_s,curl_same_requests_s,curl_unsorted_s,curl_naive_s"
for run in $(seq 1 "$runs"); do
  m=$(time_it "$extract" "$base")
  s=$(time_it curl_same_requests)
  u=$(time_it curl_unsorted)
  n=$(time_it curl_naive)
  echo "$run,$m,$s,$u,$n"
done
"$extract" "$base"
