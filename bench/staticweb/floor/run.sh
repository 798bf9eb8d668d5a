#!/usr/bin/env bash
# The floor under StaticWeb's 1 KB figure: nginx, Sidecar.StaticWeb (1 KB through a git-sync-style link), and the
# least servers of Program.cs here (Kestrel + app.Run, without and with StaticWeb's response headers; Kestrel's
# transport + canned responses), same wrk settings as ../run.sh, servers interleaved by ../ab.sh. StaticWeb (the Native AOT
# executable) also with OTEL_SDK_DISABLED=true (its telemetry), with StaticWeb__RevisionCheck=webhook (no readlink
# per request, as the AppHost and the generated Kubernetes and Compose files run it), with both, and with
# DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0; the JIT build of the same code (-p:PublishAot=false); and the Native AOT
# build without the runtime's profile data (-p:UseRuntimeProfileData=false) and compiled for the compiler's blended default
# instead of speed (-p:OptimizationPreference= , empty).
# Usage: bench/staticweb/floor/run.sh      (DURATION=10s ROUNDS=2 THREADS=2 CONNECTIONS=64; STATICWEB_BIN=PATH,
#                                           STATICWEB_JIT_BIN, STATICWEB_PLAIN_BIN and STATICWEB_BLENDED_BIN reuse published builds)
set -euo pipefail
cd "$(dirname "$0")/../../.."
DURATION=${DURATION:-10s}; ROUNDS=${ROUNDS:-2}; THREADS=${THREADS:-2}; CONNECTIONS=${CONNECTIONS:-64}
WORK=$(mktemp -d /tmp/staticweb-floor.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

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
  echo "Kestrel transport, canned|$WORK/floor/Floor raw \$PORT"
  echo "Kestrel + app.Run|$WORK/floor/Floor kestrel \$PORT"
  echo "Kestrel + app.Run, StaticWeb's headers|$WORK/floor/Floor headers \$PORT"
  staticweb "StaticWeb" "$STATICWEB_BIN"
  staticweb "StaticWeb, without the runtime's profile data" "$STATICWEB_PLAIN_BIN"
  staticweb "StaticWeb, blended code (OptimizationPreference empty)" "$STATICWEB_BLENDED_BIN"
  staticweb "StaticWeb, JIT build" "$STATICWEB_JIT_BIN"
  staticweb "StaticWeb, OTEL_SDK_DISABLED" "$STATICWEB_BIN" OTEL_SDK_DISABLED=true
  staticweb "StaticWeb, RevisionCheck=webhook" "$STATICWEB_BIN" StaticWeb__RevisionCheck=webhook
  staticweb "StaticWeb, webhook + OTEL_SDK_DISABLED" "$STATICWEB_BIN" StaticWeb__RevisionCheck=webhook OTEL_SDK_DISABLED=true
  staticweb "StaticWeb, inline completions off" "$STATICWEB_BIN" DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0
} >"$WORK/servers"
ROUNDS=$ROUNDS DURATION=$DURATION THREADS=$THREADS CONNECTIONS=$CONNECTIONS FILE=1k.txt NGINX_PORT=18711 \
  bench/staticweb/ab.sh "$WORK/servers"
