#!/usr/bin/env bash
# Builds the backup parts of the local platform from their Go modules into a cache outside the
# clone, once per pinned version set, and reuses them afterwards:
#   velero (the server: `velero server`), velero-plugin-for-aws (the object store plugin Velero
#   loads from a plugin directory), versitygw (S3 with Object Lock on a POSIX directory).
# Versions are pinned in tools/velero and tools/versitygw (go.mod, go.sum). A cache key of its own
# (not scripts/build-tools.sh's): a change here does not rebuild the control plane, nor the other
# way round (ADR 0025). Prints the bin directory on the last line.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v go >/dev/null 2>&1; then
  echo "build-backup-tools: Go is not installed (need Go >= 1.26 for Velero v1.18). Install it from https://go.dev/dl or your package manager." >&2
  exit 1
fi

key=$( (cat "$repo"/tools/{velero,versitygw}/go.mod "$repo"/tools/{velero,versitygw}/go.sum "$repo"/tools/velero/cmd/velero/*.go; go version) | sha256sum | cut -c1-16)
cache=${VAKT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vakt/tools}
bin="$cache/backup-$key/bin"
mkdir -p "$bin"

# The released version of a module our tool module requires, to stamp it as the projects'
# own builds do.
version_of() { (cd "$1" && go list -m -f '{{.Version}}' "$2"); }

# One binary at a time, under `nice -n 10` (the machine is shared; a parallel link is not faster).
build() { # name module-dir package ldflags
  local name=$1 dir=$2 pkg=$3 ldflags=$4
  if [ -x "$bin/$name" ]; then
    echo "build-backup-tools: $name is cached ($bin/$name)"
    return
  fi
  local start=$SECONDS log="$cache/backup-$key/$name.build.log"
  echo "build-backup-tools: building $name from $pkg (log: $log)"
  # CGO_ENABLED=0 as both projects' release builds do.
  if ! (cd "$dir" && CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "-s -w $ldflags" -o "$bin/$name.tmp" "$pkg") >"$log" 2>&1; then
    echo "build-backup-tools: FAILED to build $name from $pkg in $dir. Last lines of $log:" >&2
    tail -n 30 "$log" >&2
    echo "build-backup-tools: if a module could not be downloaded, check that the Go module proxy is reachable (go env GOPROXY)." >&2
    exit 1
  fi
  mv "$bin/$name.tmp" "$bin/$name"
  echo "build-backup-tools: built $name in $((SECONDS - start))s ($(du -h "$bin/$name" | cut -f1))"
}

velero=$(version_of "$repo/tools/velero" github.com/vmware-tanzu/velero)
plugin=$(version_of "$repo/tools/velero" github.com/vmware-tanzu/velero-plugin-for-aws)
vgw=$(version_of "$repo/tools/versitygw" github.com/versity/versitygw)

# Our main (tools/velero/cmd/velero): Velero's, with controller-runtime's :8080 listener turned off.
build velero "$repo/tools/velero" ./cmd/velero \
  "-X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=$velero"
# Velero loads every executable of --plugin-dir as a plugin: this one gets a directory of its own.
mkdir -p "$bin/plugins"
if [ ! -x "$bin/plugins/velero-plugin-for-aws" ]; then
  build velero-plugin-for-aws "$repo/tools/velero" \
    github.com/vmware-tanzu/velero-plugin-for-aws/velero-plugin-for-aws ""
  mv "$bin/velero-plugin-for-aws" "$bin/plugins/velero-plugin-for-aws"
fi
build versitygw "$repo/tools/versitygw" github.com/versity/versitygw/cmd/versitygw \
  "-X main.Version=$vgw"

echo "velero $velero, velero-plugin-for-aws $plugin, versitygw $vgw" >"$bin/VERSIONS"
# A stable pointer for tools and tests: ~/.cache/vakt/tools/backup-current -> this version set.
ln -sfn "backup-$key" "$cache/backup-current"
echo "$bin"
