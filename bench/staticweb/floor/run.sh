#!/usr/bin/env bash
# The floor under StaticWeb's figures: nginx, Sidecar.StaticWeb (a file through a git-sync-style link), and the least
# servers of Program.cs here (Kestrel + app.Run writing the same bytes from memory, without and with StaticWeb's response
# headers, then with Sidecar's service defaults as well; Kestrel's transport + canned responses), same wrk settings as
# ../run.sh, servers interleaved by ../ab.sh. The least servers run as JIT builds and, for the rows that carry StaticWeb's
# headers, also as Native AOT executables compiled as StaticWeb is (for speed, with the runtime's profile data). StaticWeb
# (the Native AOT executable) also with OTEL_SDK_DISABLED=true (its telemetry), with StaticWeb__RevisionCheck=webhook (no
# check of the link per request, as the AppHost and the generated Kubernetes and Compose files run it), with both, and
# with DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0; the JIT build of the same code (-p:PublishAot=false); and the
# Native AOT build without the runtime's profile data (-p:UseRuntimeProfileData=false) and compiled for the compiler's
# blended default instead of speed (-p:OptimizationPreference= , empty).
# Usage: bench/staticweb/floor/run.sh      (FILE=1k.txt or 100k.txt; DURATION=10s ROUNDS=2 THREADS=2 CONNECTIONS=64; PIN=1;
#                                           STATICWEB_BIN=PATH, STATICWEB_JIT_BIN, STATICWEB_PLAIN_BIN,
#                                           STATICWEB_BLENDED_BIN and FLOOR_AOT_BIN reuse published builds)
set -euo pipefail
cd "$(dirname "$0")/../../.."
DURATION=${DURATION:-10s}; ROUNDS=${ROUNDS:-2}; THREADS=${THREADS:-2}; CONNECTIONS=${CONNECTIONS:-64}; FILE=${FILE:-1k.txt}
case $FILE in 1k.txt) BYTES=1024 ;; 100k.txt) BYTES=102400 ;; *) echo "FILE must be 1k.txt or 100k.txt, not $FILE" >&2; exit 2 ;; esac
WORK=$(mktemp -d /tmp/staticweb-floor.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

dotnet build -c Release -v q --nologo bench/staticweb/floor -o "$WORK/floor" >/dev/null
FLOOR_AOT_BIN=${FLOOR_AOT_BIN:-}
if [ -z "$FLOOR_AOT_BIN" ]; then
  dotnet publish -c Release -v q --nologo bench/staticweb/floor -o "$WORK/floor-aot" >/dev/null
  FLOOR_AOT_BIN="$WORK/floor-aot/Floor"
fi
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
STATICWEB_BLENDED_BIN=${STATICWEB_BLENDED_BIN:-}
if [ -z "$STATICWEB_BLENDED_BIN" ]; then
  dotnet publish src/Sidecar.StaticWeb -c Release -p:OptimizationPreference= -o "$WORK/staticweb-blended" --nologo -v quiet >/dev/null
  STATICWEB_BLENDED_BIN="$WORK/staticweb-blended/Sidecar.StaticWeb"
fi
STATICWEB_JIT_BIN=${STATICWEB_JIT_BIN:-}
if [ -z "$STATICWEB_JIT_BIN" ]; then
  dotnet publish src/Sidecar.StaticWeb -c Release -p:PublishAot=false -o "$WORK/staticweb-jit" --nologo -v quiet >/dev/null
  STATICWEB_JIT_BIN="$WORK/staticweb-jit/Sidecar.StaticWeb"
fi
# In this order, each after nginx in every round (bench/staticweb/ab.sh runs them and prints the table).
staticweb() { local name=$1 bin=$2; shift 2; echo "$name|env $* $bin --root \$ROOT --urls http://127.0.0.1:\$PORT"; }
{
  echo "Kestrel transport, canned|$WORK/floor/Floor raw \$PORT $BYTES"
  echo "Kestrel + app.Run|$WORK/floor/Floor kestrel \$PORT $BYTES"
  echo "Kestrel + app.Run, StaticWeb's headers|$WORK/floor/Floor headers \$PORT $BYTES"
  echo "Kestrel + app.Run, StaticWeb's headers, Native AOT|$FLOOR_AOT_BIN headers \$PORT $BYTES"
  # The service defaults with StaticWeb's production share of traced requests (one in twenty).
  echo "Kestrel + app.Run, StaticWeb's headers and service defaults, Native AOT|env OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.05 $FLOOR_AOT_BIN defaults \$PORT $BYTES"
  staticweb "StaticWeb" "$STATICWEB_BIN"
  staticweb "StaticWeb, without the runtime's profile data" "$STATICWEB_PLAIN_BIN"
  staticweb "StaticWeb, blended code (OptimizationPreference empty)" "$STATICWEB_BLENDED_BIN"
  staticweb "StaticWeb, JIT build" "$STATICWEB_JIT_BIN"
  staticweb "StaticWeb, OTEL_SDK_DISABLED" "$STATICWEB_BIN" OTEL_SDK_DISABLED=true
  staticweb "StaticWeb, RevisionCheck=webhook" "$STATICWEB_BIN" StaticWeb__RevisionCheck=webhook
  staticweb "StaticWeb, webhook + OTEL_SDK_DISABLED" "$STATICWEB_BIN" StaticWeb__RevisionCheck=webhook OTEL_SDK_DISABLED=true
  staticweb "StaticWeb, inline completions off" "$STATICWEB_BIN" DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0
} >"$WORK/servers"
ROUNDS=$ROUNDS DURATION=$DURATION THREADS=$THREADS CONNECTIONS=$CONNECTIONS FILE=$FILE NGINX_PORT=18711 \
  bench/staticweb/ab.sh "$WORK/servers"
