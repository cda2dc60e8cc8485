#!/usr/bin/env bash
# `make test`: every suite in a pytest process of its own (SQLModel metadata is global); fails if any suite failed.
# Exit code 5 (no tests collected) counts as success; missing suites are skipped.
#
# The suites run TEST_JOBS at a time (default 2), longest first: each in-process service suite has a database and
# Kafka topics of its own run (fupin_kit.testing: prepare_service_database, isolate_topics), so they no longer meet
# each other or the running stack that tests/e2e drives. A suite's output is printed whole when it ends. The fault
# suite starts, kills and restarts components of a second stack and times their recovery: it runs alone, last.
# SUITES="services/medical tests/e2e" runs only those.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
eval "$("$ROOT/.venv/bin/fupin-dev" env)"
JOBS=${TEST_JOBS:-2}
LOGS=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$LOGS"' EXIT  # a stopped run stops its suites

# "<dir> <tests>", longest first (e2e ~160 s, finance ~60 s, gateway ~40 s on a quiet machine), then the rest
ordered=(". tests/e2e" "services/finance tests" "gateway tests" "services/registry tests" "services/education tests"
         "services/welfare tests" "services/microcredit tests" "libs/fupin_kit tests" "services/assistance tests"
         "services/medical tests")
suites=()
declare -A listed=()
for s in "${ordered[@]}"; do set -- $s; [ -d "$1/$2" ] && suites+=("$s") && listed[$s]=1; done
for d in libs/*/ services/*/ gateway/; do
  s="${d%/} tests"
  [ -d "${d%/}/tests" ] && [ -z "${listed[$s]:-}" ] && suites+=("$s")
done
[ -d tests/deploy ] && suites+=(". tests/deploy")
RUN_FAULTS=1
if [ -n "${SUITES:-}" ]; then  # only these, e.g. SUITES="services/medical tests/e2e" (tests/faults: the fault suite)
  chosen=()
  for s in "${suites[@]}"; do
    set -- $s
    id=$1; [ "$1" = . ] && id=$2  # services/medical, gateway, tests/e2e
    [[ " $SUITES " == *" $id "* ]] && chosen+=("$s")
  done
  suites=("${chosen[@]}")
  [[ " $SUITES " == *" tests/faults "* ]] || RUN_FAULTS=0
fi

failed=""
declare -A started=() names=() logs=()
finish() {  # print a finished suite's output and record its result
  local pid=$1 rc=$2
  local name=${names[$pid]}
  echo "==> pytest -q ${name#* }   (in ${name%% *}/)  [$(( SECONDS - started[$1] )) s, load $(cut -d' ' -f1 /proc/loadavg)]"
  cat "${logs[$1]}"
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then failed="$failed ${name%% *}/${name#* }"; fi
  unset "started[$pid]" "names[$pid]" "logs[$pid]"
}
reap() {  # wait for one running suite to end
  local pid rc
  wait -n -p pid; rc=$?
  finish "$pid" "$rc"
}
n=0
for s in "${suites[@]}"; do
  while [ "${#started[@]}" -ge "$JOBS" ]; do reap; done
  set -- $s
  n=$((n + 1))
  (cd "$1" && exec "$ROOT/.venv/bin/pytest" -q "$2") > "$LOGS/$n.log" 2>&1 &
  pid=$!
  started[$pid]=$SECONDS names[$pid]="$s" logs[$pid]="$LOGS/$n.log"
done
while [ "${#started[@]}" -gt 0 ]; do reap; done

if [ -d tests/faults ] && [ "$RUN_FAULTS" = 1 ]; then
  echo "==> pytest -q tests/faults   (in ./)"
  start=$SECONDS
  "$ROOT/.venv/bin/pytest" -q tests/faults; rc=$?
  echo "    [$(( SECONDS - start )) s]"
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then failed="$failed ./tests/faults"; fi
fi
if [ -n "$failed" ]; then echo "FAILED suites:$failed"; exit 1; fi
echo "all suites passed"
