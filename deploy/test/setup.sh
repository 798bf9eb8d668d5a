#!/usr/bin/env bash
# The container engines, a local registry, a base image and the two service images, for the deployment
# test (tests/Sidecar.Deployment.Tests) on one Debian 12 machine with no public registry. Run as root.
#
#   deploy/test/setup.sh up     install (apt), start dockerd and the registry, build the base image, publish both
#                               images to the registry and both services to out/publish/ (for the Dockerfiles)
#   deploy/test/setup.sh down   stop what `up` started (by pid) and delete its state
#
# Both are idempotent. SIDECAR_TEST_REGISTRY (default 127.0.0.1:5000) is where the images go;
# SIDECAR_TEST_STATE (default /var/tmp/sidecar-deploy-test) holds pids, logs, dockerd's and the registry's data.
set -euo pipefail
cd "$(dirname "$0")/../.."

REGISTRY=${SIDECAR_TEST_REGISTRY:-127.0.0.1:5000}
STATE=${SIDECAR_TEST_STATE:-/var/tmp/sidecar-deploy-test}
TAG=${SIDECAR_TEST_TAG:-test}
BASE=$REGISTRY/base:1
export CONTAINERS_CONF=$PWD/deploy/test/containers.conf
log() { printf '%s setup: %s\n' "$(date -u +%T)" "$*" >&2; }

install_packages() {
  # podman + runc + catatonit run the Pod, podman-compose and the dnsname plugin (service names resolve) the
  # Compose file; docker.io + docker-compose run it under Docker; docker-registry holds the images; debootstrap
  # makes the base image.
  local packages=(podman runc podman-compose golang-github-containernetworking-plugin-dnsname catatonit
    docker.io docker-compose docker-registry debootstrap)
  if dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | grep -vq '^install ok installed$' \
     || [ "$(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | wc -l)" -ne "${#packages[@]}" ]; then
    log "installing ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The packages' services are not started by apt: this script starts its own dockerd and registry.
    local created_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    if [ -n "$created_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  fi
}

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_dockerd() {
  if docker info >/dev/null 2>&1; then
    log "dockerd is running"
    return
  fi
  log "starting dockerd"
  mkdir -p "$STATE/docker"
  # vfs and cgroupfs: they work inside a VM or container without overlay or systemd; no iptables rules are made.
  setsid dockerd --exec-opt native.cgroupdriver=cgroupfs --iptables=false --storage-driver=vfs \
    --data-root "$STATE/docker" --pidfile "$STATE/dockerd.pid" >"$STATE/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && return; sleep 1; done
  log "dockerd did not start; see $STATE/dockerd.log"; tail -20 "$STATE/dockerd.log" >&2; exit 1
}

start_registry() {
  if curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; then
    log "the registry at $REGISTRY is running"
    return
  fi
  log "starting the registry at $REGISTRY"
  mkdir -p "$STATE/registry"
  cat > "$STATE/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $STATE/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY
YAML
  setsid docker-registry serve "$STATE/registry.yml" >"$STATE/registry.log" 2>&1 < /dev/null &
  echo $! > "$STATE/registry.pid"
  for _ in $(seq 30); do curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 && return; sleep 1; done
  log "the registry did not start; see $STATE/registry.log"; exit 1
}

build_base_image() {
  if curl -fs -o /dev/null "http://$REGISTRY/v2/base/manifests/1" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json'; then
    log "$BASE is in the registry"
    return
  fi
  # Debian 12 from the machine's apt mirror: its glibc matches the build machine's, which the native sidecar needs.
  local mirror
  mirror=$(grep -rhoE '(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | head -1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  local rootfs=$STATE/rootfs
  rm -rf "$rootfs"
  log "debootstrap bookworm from $mirror"
  debootstrap --variant=minbase --include=ca-certificates,libssl3,zlib1g,libstdc++6 bookworm "$rootfs" "$mirror" \
    >"$STATE/debootstrap.log" 2>&1 || { tail -20 "$STATE/debootstrap.log" >&2; exit 1; }
  # The app user of the .NET images (uid and gid 1654), as Microsoft's bases have it. Like them, the base has no
  # shared mount point: the images' own layer brings /app/content.
  chroot "$rootfs" groupadd --gid 1654 app
  chroot "$rootfs" useradd --uid 1654 --gid 1654 --no-create-home --home-dir /home/app --shell /usr/sbin/nologin app
  install -d -o 1654 -g 1654 -m 0755 "$rootfs/home/app"
  # The .NET shared runtime (and ASP.NET Core) for framework-dependent apps, from the installed SDK.
  local dotnet_root
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  mkdir -p "$rootfs/usr/share/dotnet/shared"
  cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$dotnet_root/LICENSE.txt" "$rootfs/usr/share/dotnet/" 2>/dev/null \
    || cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$rootfs/usr/share/dotnet/"
  cp -a "$dotnet_root/shared/Microsoft.NETCore.App" "$dotnet_root/shared/Microsoft.AspNetCore.App" "$rootfs/usr/share/dotnet/shared/"
  ln -sf /usr/share/dotnet/dotnet "$rootfs/usr/bin/dotnet"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
    "$rootfs"/usr/share/locale/*
  log "importing and pushing $BASE"
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'USER 1654' --change 'WORKDIR /app' \
    --change 'ENV APP_UID=1654 DOTNET_RUNNING_IN_CONTAINER=true ASPNETCORE_HTTP_PORTS=8080 DOTNET_ROOT=/usr/share/dotnet' \
    - "$BASE" >/dev/null
  docker push -q "$BASE" >/dev/null
  docker image rm "$BASE" >/dev/null
  rm -rf "$rootfs"
}

publish_images() {
  local project repository
  for project in src/Sidecar.GitSync src/Sidecar.StaticWeb; do
    repository=$(basename "$project" | tr '.' '-' | tr '[:upper:]' '[:lower:]')
    log "dotnet publish $project -t:PublishContainer to $REGISTRY/$repository:$TAG"
    # PublishDir: the image's files also land in out/publish/, which the project's Dockerfile copies.
    DOTNET_CONTAINER_INSECURE_REGISTRIES=$REGISTRY dotnet publish "$project" -c Release -t:PublishContainer \
      -p:ContainerBaseImage="$BASE" -p:ContainerRegistry="$REGISTRY" -p:ContainerImageTags="$TAG" \
      -p:PublishDir="$PWD/out/publish/$repository/" \
      -nologo -v:q -clp:NoSummary >"$STATE/publish-$repository.log" 2>&1 \
      || { tail -30 "$STATE/publish-$repository.log" >&2; exit 1; }
  done
}

up() {
  mkdir -p "$STATE"
  install_packages
  start_dockerd
  start_registry
  build_base_image
  publish_images
  log "ready: images $REGISTRY/sidecar-gitsync:$TAG and $REGISTRY/sidecar-staticweb:$TAG"
}

stop_pid() {
  local file=$1 pid
  running "$file" || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  kill "$pid"
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$file"
}

down() {
  # The images the tests pulled into podman's store, and anything a test run left there.
  if command -v podman >/dev/null 2>&1; then
    podman pod ls --format '{{.Name}}' 2>/dev/null | grep '^sidecar-test-' | xargs -r podman pod rm --force >/dev/null 2>&1 || true
    podman ps -a --format '{{.Names}}' 2>/dev/null | grep '^sidecar-test-' | xargs -r podman rm --force >/dev/null 2>&1 || true
    podman volume ls --format '{{.Name}}' 2>/dev/null | grep '^sidecar-test-' | xargs -r podman volume rm --force >/dev/null 2>&1 || true
    podman network ls --format '{{.Name}}' 2>/dev/null | grep '^sidecar-test-' | xargs -r podman network rm >/dev/null 2>&1 || true
    podman images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep "^$REGISTRY/" | xargs -r podman rmi --force >/dev/null 2>&1 || true
    # Older copies whose tag moved to a newer pull: the images the SDK built on this script's base say so in a label.
    podman images --quiet --filter "label=org.opencontainers.image.base.name=$BASE" 2>/dev/null | sort -u \
      | xargs -r podman rmi --force >/dev/null 2>&1 || true
    # The pause image podman built for the test's pod, once no pod needs it.
    if [ -z "$(podman pod ls --quiet 2>/dev/null)" ]; then
      podman images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep '^localhost/podman-pause:' | xargs -r podman rmi >/dev/null 2>&1 || true
    fi
  fi
  [ -d "$STATE" ] || return 0
  if running "$STATE/dockerd.pid"; then
    log "stopping dockerd"
    docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1 || true
    stop_pid "$STATE/dockerd.pid"
    # dockerd leaves its bridge behind; podman's goes too once none of its containers runs.
    ip link delete docker0 2>/dev/null || true
    if [ -z "$(podman ps -q 2>/dev/null)" ]; then ip link delete cni-podman0 2>/dev/null || true; fi
  fi
  if running "$STATE/registry.pid"; then
    log "stopping the registry"
    stop_pid "$STATE/registry.pid"
  fi
  # Mounts dockerd may leave under its data root (vfs, netns) come off before the folder is deleted.
  grep -o " $STATE/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$STATE"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
