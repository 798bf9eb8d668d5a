#!/usr/bin/env bash
# What --filter=blob:none buys, in bytes: a repository whose history holds large blobs (COMMITS commits, each
# rewriting a BLOB_MB MB incompressible file, plus 200 small pages), served over smart HTTP on loopback through a
# byte-counting relay. git does what git-sync v4 does (init, fetch [--depth N] [--filter blob:none], worktree add:
# the checkout fetches the missing blobs of that one commit lazily); the sidecar syncs with --one-time (libgit2
# cannot fetch without blobs: its --filter turns --depth=0 into --depth=1, and is otherwise a no-op). Reported per case: bytes received
# from the server, the object store (ROOT/.git) and the checked-out files, as du -sk counts them.
# Usage: bench/gitsync/filter.sh        (COMMITS=10 BLOB_MB=2 PORT=18431 RELAY=18432;
#        SIDECAR=path of the sidecar, default the Debug build; ORIGIN=path of Sidecar.DemoOrigin, default the Debug build)
set -euo pipefail
cd "$(dirname "$0")/../.."
COMMITS=${COMMITS:-10}
BLOB_MB=${BLOB_MB:-2}
PORT=${PORT:-18431}
RELAY=${RELAY:-18432}
SIDECAR=${SIDECAR:-src/Sidecar.GitSync/bin/Debug/net10.0/Sidecar.GitSync}
ORIGIN=${ORIGIN:-src/Sidecar.DemoOrigin/bin/Debug/net10.0/Sidecar.DemoOrigin}
WORK=$(mktemp -d /tmp/gitsync-filter.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
git init -q -b main "$WORK/src"
for i in $(seq 1 200); do echo "<p>page $i</p>" > "$WORK/src/page$i.html"; done
for c in $(seq 1 "$COMMITS"); do
    head -c $((BLOB_MB * 1024 * 1024)) /dev/urandom > "$WORK/src/big.bin"
    echo "<p>revision $c</p>" > "$WORK/src/index.html"
    git -C "$WORK/src" add -A && git -C "$WORK/src" commit -qm "revision $c"
done
mkdir -p "$WORK/origin"
git clone -q --bare "$WORK/src" "$WORK/origin/big.git"
git -C "$WORK/origin/big.git" config uploadpack.allowFilter true
git -C "$WORK/origin/big.git" config uploadpack.allowReachableSHA1InWant true
"$ORIGIN" --DemoOrigin:RepositoriesRoot="$WORK/origin" --urls "http://127.0.0.1:$PORT" --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
PIDS+=($!)

# The relay counts the bytes the server sends; each case reads and resets the count.
python3 - "$RELAY" "$PORT" "$WORK/received" <<'PY' 2>/dev/null &
import asyncio, sys
listen, target, counter = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
total = 0
async def pipe(reader, writer, count):
    global total
    while data := await reader.read(65536):
        if count:
            total += len(data)
            open(counter, "w").write(str(total))
        writer.write(data)
        await writer.drain()
    writer.close()
async def handle(client_reader, client_writer):
    server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
    await asyncio.gather(pipe(client_reader, server_writer, False), pipe(server_reader, client_writer, True))
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
PIDS+=($!)
URL="http://127.0.0.1:$RELAY/big.git"
for _ in $(seq 100); do git ls-remote "$URL" HEAD >/dev/null 2>&1 && break; sleep 0.2; done

received() { cat "$WORK/received" 2>/dev/null || echo 0; }
kb() { du -sk "$1" | cut -f1; }
report() { # NAME BEFORE GITDIR FILES
    printf "| %s | %s | %s | %s |\n" "$1" "$(( ($(received) - $2) / 1024 ))" "$(kb "$3")" "$(kb "$4")"
}

# git as git-sync v4 runs it: fetch into ROOT, then a worktree of FETCH_HEAD.
git_sync_like() { # NAME DEPTH FILTER
    local root="$WORK/git-$RANDOM" before; before=$(received)
    git init -q "$root"
    local args=(fetch "$URL" HEAD --no-progress --no-auto-gc)
    [ "$2" -gt 0 ] && args+=(--depth "$2")
    [ -n "$3" ] && args+=(--filter "$3")
    git -C "$root" "${args[@]}" 2>/dev/null
    git -C "$root" worktree add -q --detach "$root/.worktrees/head" FETCH_HEAD 2>/dev/null
    report "$1" "$before" "$root/.git" "$root/.worktrees/head"
}

sidecar() { # NAME DEPTH [FLAGS...]
    local name=$1 depth=$2 root="$WORK/sidecar-$RANDOM" before; shift 2; before=$(received)
    "$SIDECAR" --repo "$URL" --root "$root" --link link --one-time --depth "$depth" "$@" >/dev/null 2>&1
    report "$name" "$before" "$root/.git" "$root/.worktrees"
}

echo "History: $COMMITS commits of a ${BLOB_MB} MB incompressible file + 200 small pages; $(nproc) cores (shared, other work running); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| case | KB received | ROOT/.git KB | checked-out files KB |"
echo "|---|---|---|---|"
git_sync_like "git, --depth=0 (all history)" 0 ""
git_sync_like "git, --depth=0 --filter=blob:none" 0 blob:none
git_sync_like "git, --depth=1" 1 ""
git_sync_like "git, --depth=1 --filter=blob:none" 1 blob:none
sidecar "sidecar, --depth=0" 0
sidecar "sidecar, --depth=0 --filter=blob:none" 0 --filter=blob:none
sidecar "sidecar, --depth=1" 1
sidecar "sidecar, --depth=1 --filter=blob:none" 1 --filter=blob:none
