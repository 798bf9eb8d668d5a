#!/usr/bin/env bash
# git-sync's gc_default case (test_e2e.sh, v4.7.1) against Sidecar.GitSync: a local repository with two 4 MB
# random files in its last two commits, synced at depth 0, then depth 1, then back one commit, then to the first;
# prints `du -s ROOT` (KB) after each step. The suite allows at most 9,000 KB after the third step.
# Usage: bench/gitsync/gc-default.sh [--git-gc=MODE] (default: the sidecar's default, always).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SIDECAR_GITSYNC_BINARY:-$here/src/Sidecar.GitSync/bin/Release/net10.0/Sidecar.GitSync}
[ -x "$bin" ] || dotnet build -c Release "$here/src/Sidecar.GitSync" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/repo root=$work/root
git init -q -b main "$repo"
git -C "$repo" -c user.name=b -c user.email=b@b commit -q --allow-empty -m c1
sha1=$(git -C "$repo" rev-parse HEAD)
dd if=/dev/urandom of="$repo/big1" bs=1024 count=4096 2>/dev/null
git -C "$repo" add . && git -C "$repo" -c user.name=b -c user.email=b@b commit -qm c2
sha2=$(git -C "$repo" rev-parse HEAD)
dd if=/dev/urandom of="$repo/big2" bs=1024 count=4096 2>/dev/null
git -C "$repo" add . && git -C "$repo" -c user.name=b -c user.email=b@b commit -qm c3
sha3=$(git -C "$repo" rev-parse HEAD)
step() {
    "$bin" --one-time --repo="file://$repo" --root="$root" --link=link --ref="$1" --depth="$2" "${@:3}" >/dev/null 2>&1
    echo "ref=${1:0:7} --depth=$2 ${*:3}: $(du -s "$root" | cut -f1) KB"
}
step "$sha3" 0 "$@"
step "$sha3" 1 "$@"
step "$sha2" 1 "$@"
step "$sha1" 1 "$@"
