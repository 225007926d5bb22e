#!/usr/bin/env bash
# Benchmark: `muster import entity-relations` of 1,000,000 rows against the database's own
# bulk loader on the same file, on SQLite and on PostgreSQL, in one run.
#
# Muster resolves both ends of every row to entity ids among the 200,000 entities
# imported before it, checks every row (types, metadata, duplicates), copies the
# entities into a new snapshot and writes the relations in one transaction. The loader
# copies the raw columns into a table shaped like Muster's `relations` table: eight
# columns and the same two indexes, (first column, parent) and (first column, child).
# The table and its indexes are created before the loader is timed.
#
# Usage: bench/csv_import.sh [RUNS]   (default 1 run per backend)
#        MUSTER_BIN=path/to/muster bench/csv_import.sh   (use an existing release binary)
#        PG_URL=postgres://postgres@127.0.0.1:5432 (the server that gets a scratch database)
# Needs: python3, sqlite3, psql, /usr/bin/time, a PostgreSQL server with trust auth.
set -euo pipefail

cd "$(dirname "$0")/.."
runs=${1:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target}
pg_url=${PG_URL:-postgres://postgres@127.0.0.1:5432}

# MUSTER_BIN skips the build and uses that binary.
if [ -z "${MUSTER_BIN:-}" ]; then
  cargo build --release -p muster
fi
muster=${MUSTER_BIN:-$CARGO_TARGET_DIR/release/muster}

work=$(mktemp -d)
database="muster_csv_bench_$$"
cleanup() {
  psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 bench/build_relations_csv.py "$work/input"
entities="$work/input/entities.csv"
relations="$work/input/relations.csv"
ls -l "$entities" "$relations" | awk '{print $9 ": " $5 " bytes"}'

# The loader's table: the columns and indexes of `relations` in
# crates/muster-store/migrations/0001_initial.sql, named after the file's columns.
loader_table="CREATE TABLE relations_load (
    app TEXT NOT NULL,
    parent_source_id TEXT NOT NULL,
    parent_type TEXT NOT NULL,
    child_source_id TEXT NOT NULL,
    child_type TEXT NOT NULL,
    source_system TEXT,
    metadata_version TEXT,
    metadata TEXT NOT NULL
);
CREATE INDEX relations_load_by_parent ON relations_load (app, parent_source_id);
CREATE INDEX relations_load_by_child ON relations_load (app, child_source_id);"

# Seconds and peak RSS in MB from a `/usr/bin/time -v` log.
read_time_v() {
  python3 - "$1" <<'EOF'
import sys
wall = rss = None
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("Elapsed (wall clock) time"):
        seconds = 0.0
        for part in line.rsplit(" ", 1)[1].split(":"):
            seconds = seconds * 60 + float(part)
        wall = seconds
    elif line.startswith("Maximum resident set size"):
        rss = int(line.rsplit(" ", 1)[1]) // 1024
print(f"{wall:.2f} {rss}")
EOF
}

# Runs muster with /usr/bin/time -v; prints "seconds rss_mb"; fails unless the import applied.
timed_import() {
  local log=$1
  shift
  /usr/bin/time -v -o "$log.time" "$muster" "$@" --output json >"$log.json"
  python3 -c "
import json, sys
report = json.load(open('$log.json'))
if not report['applied']:
    sys.exit(f'import not applied: {report[\"problems\"][:3]}')
print(report['rows_applied'], 'rows applied', file=sys.stderr)
"
  read_time_v "$log.time"
}

results=()
for run in $(seq 1 "$runs"); do
  for backend in sqlite postgres; do
    data="$work/data-$backend-$run"
    if [ "$backend" = postgres ]; then
      psql "$pg_url/postgres" -qc "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1
      psql "$pg_url/postgres" -qc "CREATE DATABASE $database" >/dev/null
      export MUSTER_DATABASE_URL="$pg_url/$database"
    else
      unset MUSTER_DATABASE_URL
    fi

    echo "== run $run, $backend"
    "$muster" --data-dir "$data" integration add custom --name Payroll --owner bench@example.com >/dev/null
    timing=$(timed_import "$work/entities" --data-dir "$data" import entities "$entities" --integration Payroll)
    read -r entity_seconds entity_mb <<<"$timing"
    echo "muster import entities: ${entity_seconds}s, peak RSS ${entity_mb} MB"
    timing=$(timed_import "$work/relations" --data-dir "$data" import entity-relations "$relations" --integration Payroll)
    read -r muster_seconds muster_mb <<<"$timing"
    echo "muster import entity-relations: ${muster_seconds}s, peak RSS ${muster_mb} MB"

    if [ "$backend" = postgres ]; then
      psql "$pg_url/$database" -qc "$loader_table" >/dev/null
      /usr/bin/time -v -o "$work/loader.time" \
        psql "$pg_url/$database" -qc "\\copy relations_load FROM '$relations' WITH (FORMAT csv, HEADER, FORCE_NOT_NULL (metadata))" >/dev/null
      count=$(psql "$pg_url/$database" -tAc "SELECT COUNT(*) FROM relations_load")
      loader="psql \\copy"
    else
      loader_db="$work/loader-$run.db"
      sqlite3 "$loader_db" "PRAGMA journal_mode = WAL;" "$loader_table" >/dev/null
      /usr/bin/time -v -o "$work/loader.time" \
        sqlite3 "$loader_db" "PRAGMA synchronous = NORMAL;" ".import --csv --skip 1 $relations relations_load"
      count=$(sqlite3 "$loader_db" "SELECT COUNT(*) FROM relations_load")
      loader="sqlite3 .import"
    fi
    timing=$(read_time_v "$work/loader.time")
    read -r loader_seconds _ <<<"$timing"
    echo "$loader: ${loader_seconds}s ($count rows)"
    ratio=$(python3 -c "print(f'{$muster_seconds / $loader_seconds:.2f}')")
    results+=("| $run | $backend | $muster_seconds | $loader_seconds | $ratio | $muster_mb MB |")
    rm -rf "$data" "$work/loader-$run.db"*
  done
done

echo
echo "| run | backend | Muster (s) | loader (s) | ratio | Muster peak RSS |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
