#!/usr/bin/env bash
# Sidecar.GitSync against the git CLI doing what kubernetes/git-sync v4 does (ls-remote, fetch --depth 1,
# git worktree add, ln -s + mv -T), in the same run, on a generated site served over smart HTTP on loopback.
# Measures, for each: the first sync, a sync after a one-file change, and a no-op poll
# (wall time, CPU time, peak RSS by /usr/bin/time, disk added under the root by du).
# Usage: bench/gitsync/run.sh            (FILES=20000 PORT=18417 KEEP=1 to keep the work folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
FILES=${FILES:-20000}
PORT=${PORT:-18417}
WORK=$(mktemp -d /tmp/gitsync-bench.XXXXXX)
ORIGIN_PID=
cleanup() {
    if [ -n "$ORIGIN_PID" ]; then kill "$ORIGIN_PID" 2>/dev/null || true; wait "$ORIGIN_PID" 2>/dev/null || true; fi
    if [ -z "${KEEP:-}" ]; then rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK"; }; fi
}
trap cleanup EXIT

. bench/gitsync/origin.sh
SITE_KB=$(du -sk --exclude=.git "$WORK/src" | cut -f1)

# What git-sync v4 runs for one sync, with the git CLI.
gitcli_sync() {
    local root=$1 keep_old=$2 sha current
    [ -d "$root/.git" ] || git init -q "$root"
    sha=$(git -C "$root" ls-remote "$URL" HEAD | cut -f1)
    current=$(basename "$(readlink "$root/link" 2>/dev/null)" 2>/dev/null || true)
    [ "$sha" = "$current" ] && return 0
    git -C "$root" fetch -q --depth 1 "$URL" HEAD
    git -C "$root" worktree add -q --detach "$root/.worktrees/$sha" "$sha"
    ln -sfn ".worktrees/$sha" "$root/link.tmp" && mv -T "$root/link.tmp" "$root/link"
    if [ -n "$current" ] && [ "$keep_old" = 0 ]; then git -C "$root" worktree remove --force "$root/.worktrees/$current"; fi
}
export -f gitcli_sync
export URL

# measure NAME STEP ROOT COMMAND...: one row of the table.
measure() {
    local name=$1 step=$2 root=$3; shift 3
    local before after
    before=$(du -sk "$root" 2>/dev/null | cut -f1 || echo 0)
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr"; exit 1; }
    after=$(du -sk "$root" | cut -f1)
    read -r wall user sys rss <"$WORK/time"
    printf "| %s | %s | %.2f | %.2f | %d | %d |\n" "$name" "$step" "$wall" "$(awk "BEGIN { print $user + $sys }")" "$((rss / 1024))" "$((after - ${before:-0}))"
}

echo "Site: $FILES files, $((SITE_KB / 1024)) MB; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); git $(git --version | cut -d' ' -f3)"
echo
echo "| tool | step | wall s | CPU s | peak RSS MB | disk added KB |"
echo "|---|---|---|---|---|---|"
SC="$WORK/sidecar"; GC="$WORK/gitcli"
# The replaced snapshot is kept (stale timeout / no worktree remove) so "disk added" is what the new revision costs.
measure Sidecar.GitSync "first sync" "$SC" "$SIDECAR" --repo "$URL" --root "$SC" --link link --one-time --stale-worktree-timeout 1h
measure "git CLI" "first sync" "$GC" bash -c 'gitcli_sync "$0" 1' "$GC"
echo "changed $(date +%s%N)" >>"$WORK/src/section7/page7.html"
git -C "$WORK/src" commit -qam "one file" && git -C "$WORK/src" push -q "$WORK/origin/bench.git" main
measure Sidecar.GitSync "1-file change" "$SC" "$SIDECAR" --repo "$URL" --root "$SC" --link link --one-time --stale-worktree-timeout 1h
measure "git CLI" "1-file change" "$GC" bash -c 'gitcli_sync "$0" 1' "$GC"
measure Sidecar.GitSync "no-op poll" "$SC" "$SIDECAR" --repo "$URL" --root "$SC" --link link --one-time --stale-worktree-timeout 1h
measure "git CLI" "no-op poll" "$GC" bash -c 'gitcli_sync "$0" 1' "$GC"
measure "git fetch alone" "no-op poll" "$GC" git -C "$GC" fetch -q --depth 1 "$URL" HEAD

# The long-running sidecar: RSS and CPU per no-op poll once it is warm (no process start per poll).
"$SIDECAR" --repo "$URL" --root "$SC" --link link --period 500ms --max-failures -1 --stale-worktree-timeout 1h >/dev/null 2>&1 &
LOOP_PID=$!
sleep 5
ticks() { awk '{ print $14 + $15 }' "/proc/$LOOP_PID/stat"; }
start_ticks=$(ticks)
sleep 10
end_ticks=$(ticks)
rss=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$LOOP_PID/status")
hwm=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$LOOP_PID/status")
kill "$LOOP_PID"; wait "$LOOP_PID" 2>/dev/null || true
echo
echo "Sidecar.GitSync loop (--period 500ms, warm): $(awk "BEGIN { printf \"%.3f\", ($end_ticks - $start_ticks) / $(getconf CLK_TCK) / 20 }") CPU s per no-op poll, RSS ${rss} MB (peak ${hwm} MB)"
