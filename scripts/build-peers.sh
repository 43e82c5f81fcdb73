#!/usr/bin/env bash
# Builds the peer tools that bench/check.ts compares `vakt check` with, from their Go modules,
# into a cache outside the repository. Nothing of theirs is vendored or committed here.
#
#   bash scripts/build-peers.sh            # builds what is missing
#   FORCE=1 bash scripts/build-peers.sh    # rebuilds
#
# Peer: kube-score (github.com/zegl/kube-score, Apache-2.0). Its go.mod at the pinned tag has no
# replace directives, so `go install module@version` builds it as its authors release it.
# Prints the path of the binary on the last line of stdout.
set -euo pipefail

KUBE_SCORE_VERSION="${KUBE_SCORE_VERSION:-v1.20.0}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/vakt/peers"
BIN="$CACHE/bin"
TARGET="$BIN/kube-score-$KUBE_SCORE_VERSION"

if ! command -v go >/dev/null 2>&1; then
  echo "build-peers: go is not installed; the peer comparison needs Go >= 1.23" >&2
  exit 3
fi

if [[ -x "$TARGET" && "${FORCE:-0}" != "1" ]]; then
  echo "$TARGET"
  exit 0
fi

mkdir -p "$BIN"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Refuse a release whose go.mod replaces modules: `go install pkg@version` would reject it anyway,
# and a replaced dependency would not be the peer as released.
mod="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/zegl/kube-score@$KUBE_SCORE_VERSION" |
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
if [[ -n "$mod" ]] && grep -qE '^[[:space:]]*replace([[:space:]]|\()' "$mod"; then
  echo "build-peers: kube-score $KUBE_SCORE_VERSION has replace directives in go.mod; not building" >&2
  exit 4
fi

echo "build-peers: go install github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" >&2
# -X main.version: `kube-score version` then names the release instead of "development".
GOBIN="$work/bin" CGO_ENABLED=0 go install -trimpath -ldflags "-X main.version=$KUBE_SCORE_VERSION" \
  "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" >&2
mv "$work/bin/kube-score" "$TARGET"
ln -sf "$(basename "$TARGET")" "$BIN/kube-score"
echo "$TARGET"
