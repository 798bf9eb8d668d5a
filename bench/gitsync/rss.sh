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

dotnet build -c Release -v q src/Sidecar.GitSync >/dev/null
dotnet build -c Release -v q src/Sidecar.DemoOrigin >/dev/null
SIDECAR=src/Sidecar.GitSync/bin/Release/net10.0/Sidecar.GitSync
ORIGIN=src/Sidecar.DemoOrigin/bin/Release/net10.0/Sidecar.DemoOrigin

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
python3 - "$WORK/src" "$FILES" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
random.seed(42)
for i in range(count):
    folder = os.path.join(root, f"section{i % 100}")
    os.makedirs(folder, exist_ok=True)
    body = "".join(f"<p>page {i} paragraph {j} {random.random()}</p>\n" for j in range(random.randint(20, 80)))
    with open(os.path.join(folder, f"page{i}.html"), "w") as f:
        f.write(f"<!doctype html><title>page {i}</title>\n{body}")
PY
git -C "$WORK/src" init -q -b main && git -C "$WORK/src" add -A && git -C "$WORK/src" commit -qm seed
mkdir -p "$WORK/origin"
git clone -q --bare "$WORK/src" "$WORK/origin/bench.git"
"$ORIGIN" --DemoOrigin:RepositoriesRoot="$WORK/origin" --urls "http://127.0.0.1:$PORT" --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
ORIGIN_PID=$!
URL="http://127.0.0.1:$PORT/bench.git"
for _ in $(seq 100); do git ls-remote "$URL" HEAD >/dev/null 2>&1 && break; sleep 0.2; done

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
