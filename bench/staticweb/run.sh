#!/usr/bin/env bash
# Sidecar.StaticWeb side by side with nginx and Apache httpd, all serving the same git-sync-style
# folder on loopback, measured with wrk. Prints a markdown table; see docs/benchmarks.md.
#
#   bench/staticweb/run.sh                 # defaults below
#   DURATION=10s CONNECTIONS=64 THREADS=2 ROUNDS=2 bench/staticweb/run.sh
#   FILES=1k.txt STATICWEB_ARGS=--StaticWeb:InlineSocketScheduling=false bench/staticweb/run.sh
#   PIN=1 bench/staticweb/run.sh           # servers on CPU 1, wrk on CPU 0 (needs 2 CPUs)
#   AA=1 FILES=1k.txt bench/staticweb/run.sh  # calibration: a second nginx in StaticWeb's place
#   STATICWEB_BIN=/tmp/sw/Sidecar.StaticWeb bench/staticweb/run.sh  # reuse a published executable (no 3-minute AOT publish)
#
# StaticWeb runs as it is deployed: the Native AOT executable of `dotnet publish`, with the environment its image sets
# (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1; give =0 to measure without it). Apache httpd is measured
# when it is installed (apache2); its columns say n/a otherwise.
#
# Unpinned, wrk and the server share both CPUs, so a faster server also makes wrk busier and the
# p99 partly measures wrk's own scheduling; PIN=1 keeps the load generator off the server's CPU.
#
# AA=1 measures the noise floor: a second nginx, configured as the first, takes StaticWeb's place,
# so the ratio column compares nginx with itself.
#
# Every server started here is stopped on exit, also on failure or Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/staticweb/nginx-conf.sh

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-2}
FILES=${FILES:-1k.txt 100k.txt 5m.txt}
SWAP_SECONDS=${SWAP_SECONDS:-10}
PORT_STATICWEB=${PORT_STATICWEB:-18181}
PORT_NGINX=${PORT_NGINX:-18182}
PORT_APACHE=${PORT_APACHE:-18183}
PIN=${PIN:-}
AA=${AA:-}
FIRST=StaticWeb
[ -n "$AA" ] && FIRST="nginx #2"
SERVER_CPU=()
CLIENT_CPU=()
CPUS=shared
if [ -n "$PIN" ]; then
  SERVER_CPU=(taskset -c 1)
  CLIENT_CPU=(taskset -c 0)
  CPUS="servers on CPU 1, wrk on CPU 0"
fi

need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if ! need nginx || ! need wrk; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nginx-light wrk >/dev/null
fi
export PATH="$PATH:/usr/sbin"
SERVERS="staticweb nginx"
need apache2 && SERVERS="$SERVERS apache"
WRK_BIN=$(command -v wrk)
wrk() { "${CLIENT_CPU[@]}" "$WRK_BIN" "$@"; }

port_of() { case $1 in staticweb) echo $PORT_STATICWEB ;; nginx) echo $PORT_NGINX ;; apache) echo $PORT_APACHE ;; esac; }

WORK=$(mktemp -d /tmp/staticweb-bench.XXXXXX)
# nginx and httpd workers run as www-data and must read the site.
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for file in "$WORK/nginx.pid" "$WORK/nginx2.pid" "$WORK/apache/httpd.pid"; do
    [ -f "$file" ] && kill "$(cat "$file" 2>/dev/null)" 2>/dev/null || true
  done
  sleep 1
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The site: two snapshots and a link, as the sidecar writes them. Text files, so compression applies.
make_file() { # path bytes
  python3 - "$1" "$2" <<'PY'
import sys, random
random.seed(4)
words = "static site served from a git revision sidecar pattern kubernetes nginx apache kestrel".split()
out, size = [], 0
while size < int(sys.argv[2]):
    line = " ".join(random.choice(words) for _ in range(12)) + "\n"
    out.append(line); size += len(line)
open(sys.argv[1], "w").write("".join(out)[:int(sys.argv[2])])
PY
}
for rev in rev-a rev-b; do
  mkdir -p "$WORK/site/.worktrees/$rev"
  make_file "$WORK/site/.worktrees/$rev/1k.txt" 1024
  make_file "$WORK/site/.worktrees/$rev/100k.txt" 102400
  make_file "$WORK/site/.worktrees/$rev/5m.txt" 5242880
  echo "<p>$rev</p>" > "$WORK/site/.worktrees/$rev/index.html"
done
ln -s .worktrees/rev-a "$WORK/site/current"
SITE="$WORK/site/current"

# Sidecar.StaticWeb, Release build, logging off the hot path (with AA=1, a second nginx instead: below).
if [ -z "$AA" ]; then
  if [ -z "${STATICWEB_BIN:-}" ]; then
    dotnet publish src/Sidecar.StaticWeb -c Release -o "$WORK/staticweb" --nologo -v quiet >/dev/null
    STATICWEB_BIN="$WORK/staticweb/Sidecar.StaticWeb"
  fi
  Logging__LogLevel__Default=Warning ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1} \
    "${SERVER_CPU[@]}" "$STATICWEB_BIN" --root "$SITE" --urls "http://127.0.0.1:$PORT_STATICWEB" ${STATICWEB_ARGS:-} \
    >"$WORK/staticweb.log" 2>&1 &
  PIDS+=($!)
  STATICWEB_PID=$!
fi

# nginx as bench/staticweb/nginx-conf.sh configures it.
nginx_conf "$WORK" "$PORT_NGINX" "$SITE"
"${SERVER_CPU[@]}" nginx -c "$WORK/nginx.conf" &
PIDS+=($!)
if [ -n "$AA" ]; then
  sed -e "s/127.0.0.1:$PORT_NGINX;/127.0.0.1:$PORT_STATICWEB;/" -e "s#$WORK/nginx.pid#$WORK/nginx2.pid#" \
    -e "s#$WORK/nginx-error.log#$WORK/nginx2-error.log#" "$WORK/nginx.conf" >"$WORK/nginx2.conf"
  "${SERVER_CPU[@]}" nginx -c "$WORK/nginx2.conf" &
  PIDS+=($!)
fi

# Apache httpd: event MPM, sendfile, no access log, unlimited keep-alive, deflate and brotli on the fly.
if [[ $SERVERS == *apache* ]]; then
mkdir -p "$WORK/apache"
cat >"$WORK/apache/httpd.conf" <<CONF
ServerRoot /etc/apache2
PidFile $WORK/apache/httpd.pid
ErrorLog $WORK/apache/error.log
LogLevel warn
Listen 127.0.0.1:$PORT_APACHE
ServerName 127.0.0.1
User www-data
Group www-data
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule filter_module /usr/lib/apache2/modules/mod_filter.so
LoadModule deflate_module /usr/lib/apache2/modules/mod_deflate.so
LoadModule brotli_module /usr/lib/apache2/modules/mod_brotli.so
TypesConfig /etc/mime.types
EnableSendfile On
KeepAlive On
MaxKeepAliveRequests 0
StartServers 2
ServerLimit 4
ThreadsPerChild 64
MaxRequestWorkers 256
DocumentRoot $SITE
<Directory $WORK/site>
  Options FollowSymLinks
  Require all granted
</Directory>
AddOutputFilterByType BROTLI_COMPRESS;DEFLATE text/plain text/css application/javascript application/json
CONF
"${SERVER_CPU[@]}" apache2 -f "$WORK/apache/httpd.conf" -DFOREGROUND &
PIDS+=($!)
fi

for server in $SERVERS; do
  port=$(port_of "$server")
  for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/1k.txt" && break; sleep 0.2; done
  curl -fs -o /dev/null "http://127.0.0.1:$port/1k.txt" || { echo "server on port $port did not start" >&2; exit 1; }
done

# Peak RSS (VmHWM) of a server: the sum over its processes (nginx and httpd run several).
peak_rss_mb() { # pattern-pid...
  local total=0
  for pid in "$@"; do
    local kb
    kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  echo $((total / 1024))
}
server_pids() { # name
  case $1 in
    staticweb)
      if [ -n "$AA" ]; then local main; main=$(cat "$WORK/nginx2.pid"); echo "$main"; pgrep -P "$main"
      else echo "$STATICWEB_PID"; fi ;;
    nginx) local main; main=$(cat "$WORK/nginx.pid"); echo "$main"; pgrep -P "$main" ;;
    apache) local main; main=$(cat "$WORK/apache/httpd.pid"); echo "$main"; pgrep -P "$main" ;;
  esac | sort -u
}
# CPU seconds (utime + stime, in clock ticks) summed over a server's processes; with the requests
# wrk counted, CPU time per request, which the shared machine's noise skews less than requests/s.
cpu_ticks() { # pid...
  local total=0
  for pid in "$@"; do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo $total
}
label() { if [ "$1" = staticweb ]; then echo "$FIRST"; else echo "$1"; fi; }

# p99 from wrk --latency in milliseconds.
p99_ms() { awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }; printf "%.2f", v }'; }
rps() { awk '/Requests\/sec/ { printf "%.0f", $2 }'; }
errors() { awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }'; }

# Warm-up: every server reads every file (and StaticWeb fills its cache) before measuring.
for server in $SERVERS; do
  for file in 1k.txt 100k.txt 5m.txt; do
    wrk -t1 -c4 -d1s "http://127.0.0.1:$(port_of $server)/$file" >/dev/null
    wrk -t1 -c4 -d1s -H 'Accept-Encoding: gzip, br' "http://127.0.0.1:$(port_of $server)/$file" >/dev/null
  done
done

echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency; $ROUNDS rounds, servers interleaved; StaticWeb args: ${STATICWEB_ARGS:-none}; DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS:-1}; CPUs: $CPUS"
echo
echo "| file | Accept-Encoding | round | $FIRST req/s | nginx req/s | httpd req/s | $FIRST/nginx | $FIRST p99 ms | nginx p99 ms | httpd p99 ms | p99 $FIRST/nginx | $FIRST CPU µs/req | nginx CPU µs/req |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
TICKS=$(getconf CLK_TCK)
for file in $FILES; do
  for encoding in none "gzip, br"; do
    for round in $(seq 1 "$ROUNDS"); do
      declare -A R=([apache]=n/a) P=([apache]=n/a) C=()
      for server in $SERVERS; do
        args=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency)
        [ "$encoding" != none ] && args+=(-H "Accept-Encoding: $encoding")
        # shellcheck disable=SC2046
        before=$(cpu_ticks $(server_pids $server))
        out=$(wrk "${args[@]}" "http://127.0.0.1:$(port_of $server)/$file")
        # shellcheck disable=SC2046
        after=$(cpu_ticks $(server_pids $server))
        R[$server]=$(rps <<<"$out"); P[$server]=$(p99_ms <<<"$out")
        C[$server]=$(awk -v t=$((after - before)) -v hz="$TICKS" -v n="$(awk '/requests in/ { print $1 }' <<<"$out")" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }')
      done
      ratio=$(awk -v a="${R[staticweb]}" -v b="${R[nginx]}" 'BEGIN { printf "%.2f", a / b }')
      pratio=$(awk -v a="${P[staticweb]}" -v b="${P[nginx]}" 'BEGIN { printf "%.2f", a / b }')
      echo "| $file | $encoding | $round | ${R[staticweb]} | ${R[nginx]} | ${R[apache]} | $ratio | ${P[staticweb]} | ${P[nginx]} | ${P[apache]} | $pratio | ${C[staticweb]} | ${C[nginx]} |"
    done
  done
done

echo
echo "| server | peak RSS (MB, VmHWM summed over its processes) |"
echo "|---|---|"
for server in $SERVERS; do
  # shellcheck disable=SC2046
  echo "| $(label $server) | $(peak_rss_mb $(server_pids $server)) |"
done

# Swap under load: the link is renamed over every 10 ms while wrk asks for the 1 KB file.
echo
echo "| swap under load (${SWAP_SECONDS}s, link swapped every 10 ms) | requests | swaps | errors (non-2xx + socket) |"
echo "|---|---|---|---|"
for server in $SERVERS; do
  python3 - "$WORK/site" "$SWAP_SECONDS" >"$WORK/swaps-$server" <<'PY' &
import os, sys, time
site, seconds = sys.argv[1], float(sys.argv[2])
end, swaps = time.monotonic() + seconds, 0
while time.monotonic() < end:
    temporary = os.path.join(site, ".tmp-link")
    os.symlink(".worktrees/" + ("rev-b" if swaps % 2 == 0 else "rev-a"), temporary)
    os.rename(temporary, os.path.join(site, "current"))  # rename(2): atomic, as the sidecar does it
    swaps += 1
    time.sleep(0.01)
print(swaps)
PY
  swapper=$!
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SWAP_SECONDS}s" --latency "http://127.0.0.1:$(port_of $server)/1k.txt")
  wait $swapper
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  echo "| $(label $server) | $requests | $(cat "$WORK/swaps-$server") | $(errors <<<"$out") |"
done
