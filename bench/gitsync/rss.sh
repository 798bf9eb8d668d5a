#!/usr/bin/env bash
# Steady-state memory of a running Sidecar.GitSync: the bench site of run.sh (FILES pages) served over smart HTTP
# on loopback, then the sidecar looping with --period 500ms; VmRSS read from /proc after 25 s and 60 s, CPU per
# no-op poll between the two, and what the RSS consists of (/proc/PID/smaps_rollup).
#   warm:  the root was synced by an earlier --one-time process (the loop only polls), as run.sh's loop line;
#   fresh: the loop itself makes the first sync (20,000 files), then polls.
# Usage: bench/gitsync/rss.sh                  (FILES=20000 PORT=18418; extra environment: ENV="MALLOC_ARENA_MAX=2")
set -euo pipefail
cd "$(dirname "$0")/../.."
FILES=${FILES:-20000}
PORT=${PORT:-18418}
WORK=$(mktemp -d /tmp/gitsync-rss.XXXXXX)
ORIGIN_PID=
cleanup() {
    if [ -n "$ORIGIN_PID" ]; then kill "$ORIGIN_PID" 2>/dev/null || true; wait "$ORIGIN_PID" 2>/dev/null || true; fi
    rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK"; }
}
trap cleanup EXIT

. bench/gitsync/origin.sh

# loop MODE ROOT: one measurement of a looping sidecar.
loop() {
    local mode=$1 root=$2 pid r25 r60 t25 t60 rollup
    # shellcheck disable=SC2086
    env ${ENV:-} "$SIDECAR" --repo "$URL" --root "$root" --link link --period 500ms --max-failures -1 --stale-worktree-timeout 1h >/dev/null 2>&1 &
    pid=$!
    if [ "$mode" = fresh ]; then for _ in $(seq 600); do [ -L "$root/link" ] && break; sleep 0.5; done; fi
    ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
    rss() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status"; }
    sleep 25; r25=$(rss); t25=$(ticks)
    sleep 35; r60=$(rss); t60=$(ticks)
    rollup=$(awk '/^(Anonymous|Shared_Clean|Private_Dirty):/ { printf "%s %d MB, ", $1, $2 / 1024 }' "/proc/$pid/smaps_rollup")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    echo "$mode: RSS ${r25} MB after 25 s, ${r60} MB after 60 s; $(awk "BEGIN { printf \"%.3f\", ($t60 - $t25) / $(getconf CLK_TCK) / 70 }") CPU s per no-op poll; ${rollup%, }"
}

echo "Site: $FILES files; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); ${ENV:-no extra environment}"
"$SIDECAR" --repo "$URL" --root "$WORK/warm" --link link --one-time >/dev/null 2>&1
loop warm "$WORK/warm"
loop fresh "$WORK/fresh"
