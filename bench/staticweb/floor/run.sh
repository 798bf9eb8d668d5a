#!/usr/bin/env bash
# The floor under StaticWeb's 1 KB figure: nginx, Sidecar.StaticWeb (1 KB through a git-sync-style link), and the
# least servers of Program.cs here (Kestrel + app.Run, without and with StaticWeb's response headers; Kestrel's
# transport + canned responses), same wrk settings as ../run.sh, servers interleaved. StaticWeb (the Native AOT
# executable) also with OTEL_SDK_DISABLED=true (its telemetry), with StaticWeb__RevisionCheck=webhook (no readlink
# per request, as the AppHost and the generated Kubernetes and Compose files run it), with both, and with
# DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0; the JIT build of the same code (-p:PublishAot=false); and the Native AOT
# build without the runtime's profile data (-p:UseRuntimeProfileData=false) and with -p:OptimizationPreference=Speed.
# Usage: bench/staticweb/floor/run.sh      (DURATION=10s ROUNDS=2 THREADS=2 CONNECTIONS=64; STATICWEB_BIN=PATH,
#                                           STATICWEB_JIT_BIN, STATICWEB_PLAIN_BIN and STATICWEB_SPEED_BIN reuse published builds)
set -euo pipefail
cd "$(dirname "$0")/../../.."
DURATION=${DURATION:-10s}; ROUNDS=${ROUNDS:-2}; THREADS=${THREADS:-2}; CONNECTIONS=${CONNECTIONS:-64}
# Every .NET server here runs with the environment StaticWeb's image sets (=0 to measure without it).
export DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1}
WORK=$(mktemp -d /tmp/staticweb-floor.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

mkdir -p "$WORK/site/.worktrees/rev-a" "$WORK/nginx-tmp"
head -c 1024 /dev/zero | tr '\0' 'a' > "$WORK/site/.worktrees/rev-a/1k.txt"
ln -s .worktrees/rev-a "$WORK/site/current"
chmod -R a+rX "$WORK"

dotnet build -c Release -v q --nologo bench/staticweb/floor -o "$WORK/floor" >/dev/null
STATICWEB_BIN=${STATICWEB_BIN:-}
if [ -z "$STATICWEB_BIN" ]; then
  dotnet publish src/Sidecar.StaticWeb -c Release -o "$WORK/staticweb" --nologo -v quiet >/dev/null
  STATICWEB_BIN="$WORK/staticweb/Sidecar.StaticWeb"
fi
STATICWEB_PLAIN_BIN=${STATICWEB_PLAIN_BIN:-}
if [ -z "$STATICWEB_PLAIN_BIN" ]; then
  dotnet publish src/Sidecar.StaticWeb -c Release -p:UseRuntimeProfileData=false -o "$WORK/staticweb-plain" --nologo -v quiet >/dev/null
  STATICWEB_PLAIN_BIN="$WORK/staticweb-plain/Sidecar.StaticWeb"
fi
STATICWEB_SPEED_BIN=${STATICWEB_SPEED_BIN:-}
if [ -z "$STATICWEB_SPEED_BIN" ]; then
  dotnet publish src/Sidecar.StaticWeb -c Release -p:OptimizationPreference=Speed -o "$WORK/staticweb-speed" --nologo -v quiet >/dev/null
  STATICWEB_SPEED_BIN="$WORK/staticweb-speed/Sidecar.StaticWeb"
fi
STATICWEB_JIT_BIN=${STATICWEB_JIT_BIN:-}
if [ -z "$STATICWEB_JIT_BIN" ]; then
  dotnet publish src/Sidecar.StaticWeb -c Release -p:PublishAot=false -o "$WORK/staticweb-jit" --nologo -v quiet >/dev/null
  STATICWEB_JIT_BIN="$WORK/staticweb-jit/Sidecar.StaticWeb"
fi
cat >"$WORK/nginx.conf" <<CONF
worker_processes auto; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log warn; daemon off;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types; access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 1000000; open_file_cache max=10000 inactive=60s;
  client_body_temp_path $WORK/nginx-tmp; proxy_temp_path $WORK/nginx-tmp; fastcgi_temp_path $WORK/nginx-tmp;
  uwsgi_temp_path $WORK/nginx-tmp; scgi_temp_path $WORK/nginx-tmp;
  server { listen 127.0.0.1:18711; root $WORK/site/current; }
}
CONF
nginx -c "$WORK/nginx.conf" & PIDS+=($!)
"$WORK/floor/Floor" kestrel 18712 >/dev/null 2>&1 & PIDS+=($!)
"$WORK/floor/Floor" raw 18713 >/dev/null 2>&1 & PIDS+=($!)
"$WORK/floor/Floor" headers 18716 >/dev/null 2>&1 & PIDS+=($!)
staticweb() {
  local bin=$1 port=$2; shift 2
  env Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production "$@" \
    "$bin" --root "$WORK/site/current" --urls "http://127.0.0.1:$port" >/dev/null 2>&1 & PIDS+=($!)
}
staticweb "$STATICWEB_BIN" 18714
staticweb "$STATICWEB_JIT_BIN" 18719
staticweb "$STATICWEB_PLAIN_BIN" 18721
staticweb "$STATICWEB_SPEED_BIN" 18722
staticweb "$STATICWEB_BIN" 18715 OTEL_SDK_DISABLED=true
staticweb "$STATICWEB_BIN" 18717 StaticWeb__RevisionCheck=webhook
staticweb "$STATICWEB_BIN" 18718 StaticWeb__RevisionCheck=webhook OTEL_SDK_DISABLED=true
staticweb "$STATICWEB_BIN" 18720 DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0

PORTS="18711 18713 18712 18716 18714 18721 18722 18719 18715 18717 18718 18720"
declare -A NAME=([18711]=nginx [18712]="Kestrel + app.Run" [18713]="Kestrel transport, canned" [18716]="Kestrel + app.Run, StaticWeb's headers"
  [18714]=StaticWeb [18721]="StaticWeb, without the runtime's profile data" [18722]="StaticWeb, OptimizationPreference=Speed" [18719]="StaticWeb, JIT build" [18715]="StaticWeb, OTEL_SDK_DISABLED" [18717]="StaticWeb, RevisionCheck=webhook"
  [18718]="StaticWeb, webhook + OTEL_SDK_DISABLED" [18720]="StaticWeb, inline completions off")
# The processes behind each port (nginx: master and workers), and their CPU ticks (user + system) summed.
pids_of() { if [ "$1" = 18711 ]; then echo "$(cat "$WORK/nginx.pid") $(pgrep -P "$(cat "$WORK/nginx.pid")")"; else ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u; fi; }
cpu_ticks() { local total=0 pid; for pid in "$@"; do total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0))); done; echo $total; }
for port in $PORTS; do
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/1k.txt" && break; sleep 0.2; done
  wrk -t1 -c4 -d2s "http://127.0.0.1:$port/1k.txt" >/dev/null
done
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency; $(nproc) cores"
echo
echo "| server | round | req/s | vs nginx | p99 | CPU µs/req |"
echo "|---|---|---|---|---|---|"
TICKS=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
  nginx_rps=
  for port in $PORTS; do
    # shellcheck disable=SC2046
    before=$(cpu_ticks $(pids_of $port))
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$port/1k.txt")
    # shellcheck disable=SC2046
    after=$(cpu_ticks $(pids_of $port))
    rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' <<<"$out"); p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    cpu=$(awk -v t=$((after - before)) -v hz="$TICKS" -v n="$(awk '/requests in/ { print $1 }' <<<"$out")" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')
    [ -z "$nginx_rps" ] && nginx_rps=$rps
    echo "| ${NAME[$port]} | $round | $rps | $(awk -v a="$rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }') | $p99 | $cpu |"
  done
done
