#!/usr/bin/env bash
# Runs the test suite with Node's clock moved to dates where date arithmetic
# breaks: a month's last minute, a year's first, a DST change in Berlin and in
# New York, and a date in 2031. Proves that no test depends on the day it runs.
#
#   scripts/test-dates.sh                 every date below
#   scripts/test-dates.sh 2031            only the dates whose label contains "2031"
#   scripts/test-dates.sh -- test/e2e/governance.test.ts   every date, one file
#
# How: libfaketime (Debian's `faketime`) preloaded into every process the tests
# start. Each date is given as local time in its own TZ, and that TZ is also
# the tests' and the bot's TZ, so code that silently uses local time is caught
# on the DST days. The "@" form starts each process's clock at that instant and
# lets it run: vitest forks one process per test file, so every file starts a
# minute before the change and crosses it while it runs. The monotonic clock is
# left alone (timers and timeouts behave normally).
#
# What is not faked: Postgres's and Redis's clocks are other processes that were
# started before; their now() stays the real date. The suite is written so that
# no expectation mixes the two: the flow stamps what it later compares
# (created_at, spend, anchors) with its own clock, and tests that seed data use
# fixed dates or the database's own now() on both sides.
#
# redis-server does not run under libfaketime (its allocator calls
# clock_gettime before the shim is initialised, and it exits), so the tests
# that start their own (test/embedded/redis-server.test.ts, the Redis restart
# in test/e2e/redis-reset.test.ts, the outage in test/e2e/shutdown.test.ts)
# find a `redis-server` first on the PATH that drops the shim: its clock is the
# real one, like the shared Redis's.
#
# Child bots (test/support/child-bot.ts) get the shim too, their clock
# starting where the spawning test's faked clock is at that moment, so a
# Slack request the test signs is not refused as skewed.
#
# Files left out, and why:
#   test/e2e/sandbox-browser.test.ts  Chromium, launched by the test, inherits
#       the shim and its pages stall (every locator wait times out); the page
#       shows what the bot sends and computes no date of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)
if [ -z "$LIB" ]; then
  echo "test-dates: libfaketime not found: apt-get install faketime" >&2
  exit 78
fi

# label | TZ | local time the clock starts at (one minute before the edge)
DATES=(
  "month-end-2027-02-28|UTC|2027-02-28 23:59:00"
  "year-start-2027-01-01|UTC|2027-01-01 00:01:00"
  "dst-berlin-2027-03-28|Europe/Berlin|2027-03-28 01:59:00"
  "dst-new-york-2027-03-14|America/New_York|2027-03-14 01:59:00"
  "year-2031-03-03|UTC|2031-03-03 08:59:00"
)

EXCLUDE=(
  test/e2e/sandbox-browser.test.ts
)

only=""
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; files=("$@"); break ;;
    *) only="$1"; shift ;;
  esac
done

args=()
for f in "${EXCLUDE[@]}"; do args+=(--exclude "$f"); done

REAL_REDIS=$(command -v redis-server || true)
SHIMS=$(mktemp -d)
trap 'rm -rf "$SHIMS"' EXIT
if [ -n "$REAL_REDIS" ]; then
  printf '#!/bin/sh\nunset LD_PRELOAD FAKETIME\nexec %s "$@"\n' "$REAL_REDIS" > "$SHIMS/redis-server"
  chmod +x "$SHIMS/redis-server"
fi

passed=()
failed=()
for entry in "${DATES[@]}"; do
  IFS='|' read -r label tz at <<<"$entry"
  if [ -n "$only" ] && [[ "$label" != *"$only"* ]]; then continue; fi
  echo "=== $label: TZ=$tz, clock starts at $at (local) ==="
  if PATH="$SHIMS:$PATH" TZ="$tz" LD_PRELOAD="$LIB" FAKETIME="@$at" FAKETIME_DONT_FAKE_MONOTONIC=1 \
    npx vitest run "${args[@]}" "${files[@]}"; then
    passed+=("$label")
  else
    failed+=("$label")
  fi
done

echo "test-dates: passed at: ${passed[*]:-none}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "test-dates: FAILED at: ${failed[*]}" >&2
  exit 1
fi
