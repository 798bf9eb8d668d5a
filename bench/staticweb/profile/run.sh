#!/usr/bin/env bash
# Where a cached 1 KB request's CPU goes in Sidecar.StaticWeb: perf record -g of the Native AOT executable (published
# with its symbols) for 5 s under wrk, each sample given to the first frame of its stack, innermost first, that names
# one of the parts in categorize.py. Prints a markdown table of shares (docs/staticweb.md, "Performance notes").
# Usage: bench/staticweb/profile/run.sh     (CONNECTIONS=32 THREADS=1 FILE=1k.txt; STATICWEB_BIN=PATH reuses an executable
#                                            published with -p:StripSymbols=false)
# Needs perf (apt: linux-perf) and wrk. Every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../../.."
CONNECTIONS=${CONNECTIONS:-32}; THREADS=${THREADS:-1}; FILE=${FILE:-1k.txt}; PORT=${PORT:-18731}
WORK=$(mktemp -d /tmp/staticweb-profile.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

mkdir -p "$WORK/site/.worktrees/rev-a"
head -c 1024 /dev/zero | tr '\0' 'a' > "$WORK/site/.worktrees/rev-a/1k.txt"
head -c 102400 /dev/zero | tr '\0' 'b' > "$WORK/site/.worktrees/rev-a/100k.txt"
ln -s .worktrees/rev-a "$WORK/site/current"
if [ -z "${STATICWEB_BIN:-}" ]; then
  # The native link is not redone when only StripSymbols changes, so its intermediate folder goes before and after.
  native=src/Sidecar.StaticWeb/obj/Release/net10.0/linux-x64/native
  rm -rf "$native"
  dotnet publish src/Sidecar.StaticWeb -c Release -p:StripSymbols=false -o "$WORK/staticweb" --nologo -v quiet >/dev/null
  rm -rf "$native"
  STATICWEB_BIN="$WORK/staticweb/Sidecar.StaticWeb"
fi
# The environment StaticWeb's image sets.
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1} \
  Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
  "$STATICWEB_BIN" --root "$WORK/site/current" --urls "http://127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 & PIDS+=($!)
server=${PIDS[0]}
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/$FILE" && break; sleep 0.2; done
wrk -t1 -c4 -d2s "http://127.0.0.1:$PORT/$FILE" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d9s "http://127.0.0.1:$PORT/$FILE" >"$WORK/wrk.txt" & PIDS+=($!)
sleep 2
perf record -g -F 2000 -p "$server" -o "$WORK/perf.data" -- sleep 5 >/dev/null 2>&1
wait "${PIDS[1]}"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); wrk -t$THREADS -c$CONNECTIONS on $FILE: $(awk '/Requests\/sec/ { print $2 }' "$WORK/wrk.txt") requests/s"
echo
echo "| share | what |"
echo "|---|---|"
perf script -i "$WORK/perf.data" -F ip,sym 2>/dev/null | python3 bench/staticweb/profile/categorize.py
