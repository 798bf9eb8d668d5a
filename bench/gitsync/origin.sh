# Sourced by run.sh and rss.sh: publishes the sidecar as its image is built (Native AOT), builds its JIT build and
# the demo origin (Release), generates the bench site (FILES pages of 1-4 KB in 100 folders, one commit) in
# $WORK/src, and serves it as bench.git over smart HTTP on 127.0.0.1:$PORT. Sets SIDECAR (the published executable;
# SIDECAR_BINARY measures another build, such as the JIT one: src/Sidecar.GitSync/bin/Release/net10.0/Sidecar.GitSync),
# URL and ORIGIN_PID (the caller's cleanup stops it).
dotnet publish -c Release -v q --disable-build-servers src/Sidecar.GitSync >/dev/null
dotnet build -c Release -v q src/Sidecar.GitSync >/dev/null
dotnet build -c Release -v q src/Sidecar.DemoOrigin >/dev/null
SIDECAR=${SIDECAR_BINARY:-src/Sidecar.GitSync/bin/Release/net10.0/linux-x64/publish/Sidecar.GitSync}
ORIGIN=src/Sidecar.DemoOrigin/bin/Release/net10.0/Sidecar.DemoOrigin

export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
python3 - "$WORK/src" "$FILES" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
random.seed(42)
for i in range(count):
    folder = os.path.join(root, f"section{i % 100}")
    os.makedirs(folder, exist_ok=True)
    body = "".join(f"<p>page {i} paragraph {j} {random.random()}</p>\n" for j in range(random.randint(20, 80)))
    with open(os.path.join(folder, f"page{i}.html"), "w") as f:
        f.write(f"<!doctype html><title>page {i}</title>\n{body}")
PY
git -C "$WORK/src" init -q -b main && git -C "$WORK/src" add -A && git -C "$WORK/src" commit -qm seed
mkdir -p "$WORK/origin"
git clone -q --bare "$WORK/src" "$WORK/origin/bench.git"
git -C "$WORK/origin/bench.git" config uploadpack.allowReachableSHA1InWant true
"$ORIGIN" --DemoOrigin:RepositoriesRoot="$WORK/origin" --urls "http://127.0.0.1:$PORT" --Logging:LogLevel:Default=Warning >/dev/null 2>&1 &
ORIGIN_PID=$!
URL="http://127.0.0.1:$PORT/bench.git"
for _ in $(seq 100); do git ls-remote "$URL" HEAD >/dev/null 2>&1 && break; sleep 0.2; done
