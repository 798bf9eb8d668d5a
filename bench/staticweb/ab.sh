#!/usr/bin/env bash
# Servers side by side on one file: nginx first, then every server of a list, one after another in each round
# (wrk --latency), rounds interleaved, all serving the same git-sync-style folder on loopback. Prints a markdown table
# with one row per server and round: requests/s, ratio to nginx in that round, p99, CPU µs per request (the server's
# processes' user + system time over the requests wrk made). bench/staticweb/floor/run.sh runs its servers through it.
#
# Later places in a round have measured faster here than earlier ones, so to compare builds or settings list each
# server twice in mirrored order (a b b a) and compare the pairs' means.
#
# Usage: bench/staticweb/ab.sh SERVERS    (ROUNDS=4 DURATION=5s THREADS=2 CONNECTIONS=64 FILE=1k.txt; 1k.txt and
#                                          100k.txt are served; PIN=1 puts nginx and every server on CPU 1 and wrk
#                                          on CPU 0, as ../run.sh does)
#   SERVERS: one line per server, "name|command", the command using $ROOT (the link) and $PORT, e.g.
#     published|/tmp/sw/Sidecar.StaticWeb --root $ROOT --urls http://127.0.0.1:$PORT
# Every server gets the environment StaticWeb's image sets (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1; a command
# may set it otherwise); every server started here is stopped on exit.
set -uo pipefail
. "$(dirname "$0")/nginx-conf.sh"
SERVERS=${1:?usage: bench/staticweb/ab.sh SERVERS-FILE}
ROUNDS=${ROUNDS:-4}; DURATION=${DURATION:-5s}; THREADS=${THREADS:-2}; CONNECTIONS=${CONNECTIONS:-64}; FILE=${FILE:-1k.txt}
SERVER_CPU=(); CLIENT_CPU=(); CPUS="CPUs shared"
if [ -n "${PIN:-}" ]; then SERVER_CPU=(taskset -c 1); CLIENT_CPU=(taskset -c 0); CPUS="servers on CPU 1, wrk on CPU 0"; fi
WRK_BIN=$(command -v wrk)
wrk() { "${CLIENT_CPU[@]}" "$WRK_BIN" "$@"; }
NGINX_PORT=${NGINX_PORT:-19000}
export PATH="$PATH:/usr/sbin"
WORK=$(mktemp -d /tmp/staticweb-ab.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid" 2>/dev/null)" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
mkdir -p "$WORK/site/.worktrees/rev-a"
head -c 1024 /dev/zero | tr "\0" a > "$WORK/site/.worktrees/rev-a/1k.txt"; head -c 102400 /dev/zero | tr "\0" b > "$WORK/site/.worktrees/rev-a/100k.txt"
ln -s .worktrees/rev-a "$WORK/site/current"
chmod -R a+rX "$WORK"
export ROOT="$WORK/site/current"
export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1} Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production
nginx_conf "$WORK" "$NGINX_PORT" "$ROOT"
"${SERVER_CPU[@]}" nginx -c "$WORK/nginx.conf" & PIDS+=($!)
NAMES=(nginx); PORTS=("$NGINX_PORT")
port=$((NGINX_PORT + 1))
while IFS='|' read -r name cmd; do
  [ -z "$name" ] && continue
  PORT=$port "${SERVER_CPU[@]}" bash -c "export PORT=$port; exec $cmd" >"$WORK/$port.log" 2>&1 & PIDS+=($!)
  NAMES+=("$name"); PORTS+=($port); port=$((port+1))
done < "$SERVERS"
# The processes behind each port (nginx: master and workers), and their CPU ticks (user + system) summed.
pids_of() { if [ "$1" = "$NGINX_PORT" ]; then echo "$(cat "$WORK/nginx.pid") $(pgrep -P "$(cat "$WORK/nginx.pid")")"; else ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u; fi; }
cpu_ticks() { local total=0 pid; for pid in "$@"; do total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0))); done; echo $total; }
for p in "${PORTS[@]}"; do
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$p/$FILE" && break; sleep 0.2; done
  curl -fs -o /dev/null "http://127.0.0.1:$p/$FILE" || { echo "port $p not serving" >&2; cat "$WORK/$p.log" >&2; }
  wrk -t1 -c4 -d2s "http://127.0.0.1:$p/$FILE" >/dev/null
done
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency on $FILE; $(nproc) cores, $CPUS"
echo
echo "| server | round | req/s | vs nginx | p99 | CPU µs/req |"
echo "|---|---|---|---|---|---|"
TICKS=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
  base=
  for i in "${!PORTS[@]}"; do
    p=${PORTS[$i]}
    # shellcheck disable=SC2046
    before=$(cpu_ticks $(pids_of "$p"))
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$p/$FILE")
    # shellcheck disable=SC2046
    after=$(cpu_ticks $(pids_of "$p"))
    rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' <<<"$out"); p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    cpu=$(awk -v t=$((after - before)) -v hz="$TICKS" -v n="$(awk '/requests in/ { print $1 }' <<<"$out")" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')
    [ -z "$base" ] && base=$rps
    echo "| ${NAMES[$i]} | $round | $rps | $(awk -v a="$rps" -v b="$base" 'BEGIN { printf "%.2f", a / b }') | $p99 | $cpu |"
  done
done
