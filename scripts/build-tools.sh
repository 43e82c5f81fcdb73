#!/usr/bin/env bash
# Builds the real control-plane binaries from their Go modules into a cache outside the
# clone, once per pinned version set, and reuses them afterwards:
#   etcd 3.6.x, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (1.36.x), kwok.
# Prints where they are on the last line. Versions are pinned in tools/etcd, tools/k8s (go.mod) and below.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
K8S_VERSION=v1.36.3
KWOK_VERSION=v0.8.0

if ! command -v go >/dev/null 2>&1; then
  echo "build-tools: Go is not installed (need Go >= 1.26 for Kubernetes ${K8S_VERSION}). Install it from https://go.dev/dl or your package manager." >&2
  exit 1
fi

# The cache key covers everything that changes the binaries: module files, versions, Go version.
# The modules are named (not tools/*): tools/kyverno builds a benchmark peer, not these.
key=$( (cat "$repo"/tools/{etcd,k8s}/go.mod "$repo"/tools/{etcd,k8s}/go.sum; echo "$K8S_VERSION $KWOK_VERSION"; go version) | sha256sum | cut -c1-16)
cache=${VAKT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vakt/tools}
bin="$cache/$key/bin"
mkdir -p "$bin"

ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION}"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}"

# One binary at a time: on 2 cores a parallel link of several Kubernetes binaries needs
# many GB and is not faster. Progress: a line when each starts and ends, with the time.
build() { # name module-dir package [extra go flags]
  local name=$1 dir=$2 pkg=$3
  if [ -x "$bin/$name" ]; then
    echo "build-tools: $name is cached ($bin/$name)"
    return
  fi
  local start=$SECONDS log="$cache/$key/$name.build.log"
  echo "build-tools: building $name from $pkg (a few minutes on 2 cores; log: $log)"
  if ! (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$bin/$name.tmp" "$pkg") >"$log" 2>&1; then
    echo "build-tools: FAILED to build $name from $pkg in $dir. Last lines of $log:" >&2
    tail -n 30 "$log" >&2
    echo "build-tools: if a module could not be downloaded, check that the Go module proxy is reachable (go env GOPROXY)." >&2
    exit 1
  fi
  mv "$bin/$name.tmp" "$bin/$name"
  echo "build-tools: built $name in $((SECONDS - start))s ($(du -h "$bin/$name" | cut -f1))"
}

build etcd "$repo/tools/etcd" ./cmd/etcd
build kube-apiserver "$repo/tools/k8s" ./cmd/kube-apiserver
build kube-controller-manager "$repo/tools/k8s" ./cmd/kube-controller-manager
build kube-scheduler "$repo/tools/k8s" ./cmd/kube-scheduler
build kubectl "$repo/tools/k8s" ./cmd/kubectl

if [ ! -x "$bin/kwok" ]; then
  start=$SECONDS
  echo "build-tools: installing kwok ${KWOK_VERSION}"
  if ! GOBIN="$bin" go install "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}" >"$cache/$key/kwok.build.log" 2>&1; then
    echo "build-tools: FAILED to install kwok ${KWOK_VERSION}:" >&2
    tail -n 30 "$cache/$key/kwok.build.log" >&2
    exit 1
  fi
  echo "build-tools: built kwok in $((SECONDS - start))s"
fi

# kwok simulates nothing without "stages". Its module ships the project's own fast stages;
# combine them (from the module cache, not copied into the repo) into one config file.
if [ ! -s "$bin/kwok-stages.yaml" ]; then
  kwok_dir=$(go env GOMODCACHE)/sigs.k8s.io/kwok@${KWOK_VERSION}/kustomize/stage
  [ -d "$kwok_dir" ] || (cd "$(mktemp -d)" && go mod download "sigs.k8s.io/kwok@${KWOK_VERSION}")
  : >"$bin/kwok-stages.yaml.tmp"
  for stage in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    { echo "---"; cat "$kwok_dir/$stage"; } >>"$bin/kwok-stages.yaml.tmp"
  done
  mv "$bin/kwok-stages.yaml.tmp" "$bin/kwok-stages.yaml"
fi

# A stable pointer for tools and people: ~/.cache/vakt/tools/current -> this version set.
ln -sfn "$key" "$cache/current"
echo "$bin"
