#!/usr/bin/env bash
# Builds the peer tools that bench/check.ts compares `vakt check` with, from their Go modules,
# into a cache outside the repository. Nothing of theirs is vendored or committed here.
#
#   bash scripts/build-peers.sh                    # builds what is missing (both peers)
#   bash scripts/build-peers.sh kyverno            # one peer: kube-score or kyverno
#   FORCE=1 bash scripts/build-peers.sh            # rebuilds
#
# Prints the path of each binary asked for, one a line, in the order asked (so the last line of
# stdout is the last peer's). Builds run under `nice -n 10`: the machine is shared.
#
# kube-score (github.com/zegl/kube-score, Apache-2.0): its go.mod at the pinned tag has no
# replace directives, so `go install module@version` builds it as its authors release it.
#
# Kyverno CLI (github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno, Apache-2.0): its go.mod
# replaces k8s.io/pod-security-admission with Kyverno's fork, which `go install pkg@version`
# refuses. tools/kyverno is a module of ours that requires the release and repeats its replace
# directives (the version is pinned there); this script checks that they are still the same.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
KUBE_SCORE_VERSION="${KUBE_SCORE_VERSION:-v1.20.0}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vakt/peers"
BIN="$CACHE/bin"

if ! command -v go >/dev/null 2>&1; then
  echo "build-peers: go is not installed; the peer comparison needs Go >= 1.26" >&2
  exit 3
fi

mkdir -p "$BIN"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The go.mod file of module@version, from the module cache (downloaded when missing).
go_mod_of() {
  (cd "$work" && GOFLAGS=-mod=mod go mod download -json "$1" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
}

# The replace directives of a go.mod file, as `go mod edit -json` prints them (empty if none).
replaces_of() {
  go mod edit -json "$1" | sed -n '/^\t"Replace": \[/,/^\t\]/p'
}

build_kube_score() {
  local target="$BIN/kube-score-$KUBE_SCORE_VERSION"
  if [[ -x "$target" && "${FORCE:-0}" != "1" ]]; then
    echo "$target"
    return
  fi
  # Refuse a release whose go.mod replaces modules: `go install pkg@version` would reject it
  # anyway, and a replaced dependency would not be the peer as released.
  local mod
  mod="$(go_mod_of "github.com/zegl/kube-score@$KUBE_SCORE_VERSION")"
  if [[ -n "$mod" && -n "$(replaces_of "$mod")" ]]; then
    echo "build-peers: kube-score $KUBE_SCORE_VERSION has replace directives in go.mod; not building" >&2
    exit 4
  fi
  echo "build-peers: go install github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" >&2
  # -X main.version: `kube-score version` then names the release instead of "development".
  GOBIN="$work/bin" CGO_ENABLED=0 nice -n 10 go install -trimpath \
    -ldflags "-X main.version=$KUBE_SCORE_VERSION" \
    "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" >&2
  mv "$work/bin/kube-score" "$target"
  ln -sf "$(basename "$target")" "$BIN/kube-score"
  echo "$target"
}

build_kyverno() {
  local dir="$repo/tools/kyverno" version key target
  version="$(cd "$dir" && go list -m -f '{{.Version}}' github.com/kyverno/kyverno)"
  # The name changes with anything that changes the binary: our module files and the Go version.
  key="$( (cat "$dir/go.mod" "$dir/go.sum"; go version) | sha256sum | cut -c1-12)"
  target="$BIN/kyverno-$version-$key"
  if [[ -x "$target" && "${FORCE:-0}" != "1" ]]; then
    echo "$target"
    return
  fi
  # Our replace directives must be Kyverno's own, or the binary is not the CLI as released.
  local mod
  mod="$(go_mod_of "github.com/kyverno/kyverno@$version")"
  if [[ -z "$mod" || "$(replaces_of "$mod")" != "$(replaces_of "$dir/go.mod")" ]]; then
    echo "build-peers: the replace directives of tools/kyverno/go.mod differ from those of" \
      "github.com/kyverno/kyverno@$version ($mod); copy its replace lines, then" \
      "\`go mod tidy\` in tools/kyverno" >&2
    exit 4
  fi
  echo "build-peers: go build github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno@$version (tools/kyverno)" >&2
  local start=$SECONDS
  # The flags of Kyverno's own Makefile: no cgo, -s -w, the release stamped into pkg/version.
  (cd "$dir" && CGO_ENABLED=0 nice -n 10 go build -trimpath \
    -ldflags "-s -w -X github.com/kyverno/kyverno/pkg/version.BuildVersion=$version" \
    -o "$work/kyverno" github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno) >&2
  echo "build-peers: built kyverno $version in $((SECONDS - start)) s" >&2
  mv "$work/kyverno" "$target"
  ln -sf "$(basename "$target")" "$BIN/kyverno"
  echo "$target"
}

peers=("$@")
[[ ${#peers[@]} -gt 0 ]] || peers=(kube-score kyverno)
for peer in "${peers[@]}"; do
  case "$peer" in
    kube-score) build_kube_score ;;
    kyverno) build_kyverno ;;
    *)
      echo "build-peers: unknown peer '$peer' (known: kube-score, kyverno)" >&2
      exit 2
      ;;
  esac
done
