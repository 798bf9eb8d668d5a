#!/usr/bin/env bash
# Memory of Sidecar.StaticWeb (the Native AOT executable, default cache setting) beside nginx, both serving the
# site of run.sh through a git-sync-style link on loopback:
#   idle: VmRSS IDLE_SECONDS after start, before any request, and what it consists of (/proc/PID/smaps_rollup);
#   load: peak RSS (VmHWM) after wrk has asked for every file, plain and with gzip/br, LOAD_SECONDS each.
# nginx's figures are summed over its master and workers, as run.sh does. StaticWeb gets the environment its image sets.
# Usage: bench/staticweb/rss.sh    (CONNECTIONS=64 THREADS=2 LOAD_SECONDS=5 IDLE_SECONDS=5;
#                                   STATICWEB_BIN=path reuses a published executable; STATICWEB_ARGS=... passes settings)
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/staticweb/nginx-conf.sh
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
LOAD_SECONDS=${LOAD_SECONDS:-5}
IDLE_SECONDS=${IDLE_SECONDS:-5}
PORT_STATICWEB=${PORT_STATICWEB:-18191}
PORT_NGINX=${PORT_NGINX:-18192}

need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if ! need nginx || ! need wrk; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nginx-light wrk >/dev/null
fi
export PATH="$PATH:/usr/sbin"

WORK=$(mktemp -d /tmp/staticweb-rss.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid" 2>/dev/null)" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mkdir -p "$WORK/site/.worktrees/rev-a"
python3 - "$WORK/site/.worktrees/rev-a" <<'PY'
import os, random, sys
random.seed(4)
words = "static site served from a git revision sidecar pattern kubernetes nginx apache kestrel".split()
for name, size in (("1k.txt", 1024), ("100k.txt", 102400), ("5m.txt", 5242880)):
    out, n = [], 0
    while n < size:
        line = " ".join(random.choice(words) for _ in range(12)) + "\n"
        out.append(line); n += len(line)
    open(os.path.join(sys.argv[1], name), "w").write("".join(out)[:size])
open(os.path.join(sys.argv[1], "index.html"), "w").write("<p>rev-a</p>\n")
PY
ln -s .worktrees/rev-a "$WORK/site/current"
chmod -R a+rX "$WORK/site"
SITE="$WORK/site/current"

if [ -z "${STATICWEB_BIN:-}" ]; then
  dotnet publish src/Sidecar.StaticWeb -c Release -o "$WORK/staticweb" --nologo -v quiet >/dev/null
  STATICWEB_BIN="$WORK/staticweb/Sidecar.StaticWeb"
fi
# shellcheck disable=SC2086
Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
  DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1} \
  "$STATICWEB_BIN" --root "$SITE" --urls "http://127.0.0.1:$PORT_STATICWEB" ${STATICWEB_ARGS:-} >"$WORK/staticweb.log" 2>&1 &
STATICWEB_PID=$!
PIDS+=("$STATICWEB_PID")

nginx_conf "$WORK" "$PORT_NGINX" "$SITE"
nginx -c "$WORK/nginx.conf" &
PIDS+=($!)

# Waits for the port without a request, so the idle figure is of a server that has served nothing.
for port in $PORT_STATICWEB $PORT_NGINX; do
  for _ in $(seq 1 150); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
done
sleep "$IDLE_SECONDS"

pids_of() { # server
  if [ "$1" = staticweb ]; then echo "$STATICWEB_PID"; else local main; main=$(cat "$WORK/nginx.pid"); echo "$main"; pgrep -P "$main" || true; fi
}
sum_status() { # field pid...
  local field=$1 total=0 kb; shift
  for pid in "$@"; do kb=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null); total=$((total + ${kb:-0})); done
  awk -v kb=$total 'BEGIN { printf "%.1f", kb / 1024 }'
}
rollup() { # pid...: what the resident memory is, summed
  cat $(printf '/proc/%s/smaps_rollup ' "$@") 2>/dev/null |
    awk '/^(Rss|Pss|Anonymous|Shared_Clean|Private_Dirty):/ { kb[$1] += $2 } END { printf "Pss %.1f, Anonymous %.1f, Private_Dirty %.1f, Shared_Clean %.1f", kb["Pss:"] / 1024, kb["Anonymous:"] / 1024, kb["Private_Dirty:"] / 1024, kb["Shared_Clean:"] / 1024 }'
}
port_of() { if [ "$1" = staticweb ]; then echo "$PORT_STATICWEB"; else echo "$PORT_NGINX"; fi; }

declare -A IDLE=() IDLE_ROLLUP=() PEAK=() LOAD_ROLLUP=()
for server in staticweb nginx; do
  # shellcheck disable=SC2046
  IDLE[$server]=$(sum_status VmRSS $(pids_of $server))
  # shellcheck disable=SC2046
  IDLE_ROLLUP[$server]=$(rollup $(pids_of $server))
done
for server in staticweb nginx; do
  for file in 1k.txt 100k.txt 5m.txt; do
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${LOAD_SECONDS}s" "http://127.0.0.1:$(port_of $server)/$file" >/dev/null
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${LOAD_SECONDS}s" -H 'Accept-Encoding: gzip, br' "http://127.0.0.1:$(port_of $server)/$file" >/dev/null
  done
  # shellcheck disable=SC2046
  PEAK[$server]=$(sum_status VmHWM $(pids_of $server))
  # shellcheck disable=SC2046
  LOAD_ROLLUP[$server]=$(rollup $(pids_of $server))
done

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; idle after ${IDLE_SECONDS}s; load: wrk -t$THREADS -c$CONNECTIONS, ${LOAD_SECONDS}s per file and encoding; StaticWeb args: ${STATICWEB_ARGS:-none}"
echo
echo "| server | idle RSS MB | idle smaps_rollup MB | peak RSS MB (VmHWM) | after load smaps_rollup MB |"
echo "|---|---|---|---|---|"
for server in staticweb nginx; do
  echo "| $server | ${IDLE[$server]} | ${IDLE_ROLLUP[$server]} | ${PEAK[$server]} | ${LOAD_ROLLUP[$server]} |"
done
echo
awk -v s="${PEAK[staticweb]}" -v n="${PEAK[nginx]}" -v i="${IDLE[staticweb]}" \
  'BEGIN { printf "StaticWeb peak / nginx peak: %.2fx (target at most 2.5x); StaticWeb idle: %s MB (target at most 30)\n", s / n, i }'
