#!/usr/bin/env bash
# Installs what berth needs on a fresh Debian machine and builds it. Idempotent and quick when nothing changed.
#   apt (root only): runc, busybox-static (the integration tests' container rootfs), runsc, crun,
#   docker-registry + apache2-utils (registry tests), python3-docker + docker.io (client tests, reference dockerd),
#   systemd (systemd-analyze for the unit file), containerd (CRI export tests)
#   with --bench also: golang-go + golang-github-docker-docker-dev (bench/spec-rate.ts builds moby 20.10's spec code
#   from Debian's sources, no network, to compare with in the same run; ~400 MB, so not for the tests)
#   npm ci when package-lock.json changed, then the TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v runc >/dev/null || missing+=(runc)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
# Other OCI runtimes the runtime-registry tests drive: gVisor (runsc) and crun (unavailable on hybrid cgroups).
command -v runsc >/dev/null || missing+=(runsc)
command -v crun >/dev/null || missing+=(crun)
# A real containerd 1.6 (containerd, ctr, the runc shim) for the CRI export tests (a private instance per test).
command -v containerd >/dev/null || missing+=(containerd)
# A real registry for plugin pull/push tests, and htpasswd for its Basic-auth variant.
command -v docker-registry >/dev/null || missing+=(docker-registry)
command -v htpasswd >/dev/null || missing+=(apache2-utils)
# Real clients: the Python docker SDK, and the reference dockerd 20.10 (docker.io) the client tests compare with.
/usr/bin/python3 -c 'import docker' 2>/dev/null || missing+=(python3-docker)
command -v dockerd >/dev/null || missing+=(docker.io)
# gcc builds native/berth-spawner (below), the helper berthd forks runtimes through, and native/berth-malloc.node.
command -v gcc >/dev/null || missing+=(gcc)
# systemd-analyze checks the shipped unit file.
command -v systemd-analyze >/dev/null || missing+=(systemd)
if [[ ${1:-} == --bench ]]; then
  command -v go >/dev/null || missing+=(golang-go)
  [[ -d /usr/share/gocode/src/github.com/docker/docker/oci ]] || missing+=(golang-github-docker-docker-dev)
fi
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
  else
    echo "setup: installing ${missing[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    # The package enables a registry service on :5000; the tests start their own on loopback ports.
    if [[ " ${missing[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null; then
      systemctl disable --now docker-registry >/dev/null 2>&1 || true
    fi
  fi
fi

stamp=.berth-setup-stamp
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -d node_modules || $(cat "$stamp" 2>/dev/null) != "$lock_sum" ]]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$stamp"
fi
npm run -s build
# berth-spawner: berthd starts runc through this ~1 MiB helper instead of forking its own ~100 MiB process
# (src/executor/spawner.ts); without it berthd forks runtimes itself, only slower.
if [[ ! -x native/berth-spawner || native/berth-spawner.c -nt native/berth-spawner ]]; then
  gcc -O2 -Wall -o native/berth-spawner native/berth-spawner.c
fi
# berth-malloc.node: glibc's malloc_trim and arena limit for berthd's memory (src/host/malloc-trim.ts,
# bin/berthd.js), a Node-API addon built against the headers node installs. Without it berthd runs the same, with
# ~1.5 MiB more resident idle and ~6 MiB more with 100 plugins (BENCHMARKS.md, "Memory"); so a libc without these
# (musl) or missing headers only warn.
node_include=$(dirname "$(dirname "$(command -v node)")")/include/node
if [[ ! -f $node_include/node_api.h ]]; then
  echo "setup: $node_include/node_api.h not found; native/berth-malloc.node not built" >&2
elif [[ ! -f native/berth-malloc.node || native/berth-malloc.c -nt native/berth-malloc.node ]]; then
  gcc -O2 -Wall -Wextra -shared -fPIC -I"$node_include" -o native/berth-malloc.node native/berth-malloc.c ||
    echo "setup: native/berth-malloc.node not built (see gcc's message above)" >&2
fi
