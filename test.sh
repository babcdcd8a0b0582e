#!/usr/bin/env bash
# Runs the whole test suite and prints "N passed, M failed" last.
#   ./test.sh                                   on SQLite (nothing to install)
#   MAILROOM_TEST_DATABASE='Host=127.0.0.1;Port=5432;Username=postgres' ./test.sh   on PostgreSQL
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Servers"); TEST_TARGET picks a project
# instead of the whole solution.
set -uo pipefail
cd "$(dirname "$0")"
scripts/test-deps.sh   # python3-dkim, swaks, Node + the official client and axe-core, Chromium, PostgreSQL: installed when missing (needs root)
results=${TEST_RESULTS:-TestResults/run-$(date +%Y%m%d-%H%M%S)-$$}
mkdir -p "$results"
dotnet test "${TEST_TARGET:-Mailroom.slnx}" --logger "trx" --results-directory "$results" "$@"
rc=$?
passed=0; failed=0
for f in "$results"/*.trx; do
  [ -f "$f" ] || continue
  line=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$line"); p=${p:-0}
  x=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$line"); x=${x:-0}
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$line"); e=${e:-0}
  passed=$((passed + p)); failed=$((failed + x + e))
done
if [ "$failed" -gt 0 ] && command -v python3 >/dev/null; then
  python3 scripts/trx-failures.py "$results"/*.trx   # each failure with its message (dotnet test's console shows them scattered)
fi
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # a build or host failure counts
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
