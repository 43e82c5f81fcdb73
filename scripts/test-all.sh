#!/usr/bin/env bash
# Every check on a fresh machine: set up, lint and format, type-check, then every test
# (unit, conformance, golden, integration against one real local control plane).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/setup.sh

echo "== npx vakt with the machine's own Node, as the README runs it"
# npm on the machine's Node (npm scripts put node_modules/.bin, with Node 24, first on PATH: take
# it out) and a fresh npm cache: npx installs the package into its cache on first use, and that
# is when npm compares package.json's engines with its own Node (EBADENGINE; ADR 0016).
system_path=$(tr ':' '\n' <<<"$PATH" | grep -v '/node_modules/\.bin/*$' | paste -sd: -)
system_node=$(PATH=$system_path node --version)
npx_cache=$(mktemp -d)
# A clean environment, as in a terminal: npm run exports its own settings as npm_* variables.
npx_out=$(env -i HOME="$HOME" PATH="$system_path" npm_config_cache="$npx_cache" npx --offline vakt --version 2>&1) || npx_rc=$?
rm -rf "$npx_cache"
if [ "${npx_rc:-0}" != 0 ] || grep -q EBADENGINE <<<"$npx_out" || [ "$npx_out" != "$(node -p 'require("./package.json").version')" ]; then
  echo "$npx_out"
  echo "test-all: \`npx vakt --version\` with Node $system_node running npm: exit ${npx_rc:-0}, output above (expected the version alone)" >&2
  exit 1
fi
# An older Node running bin/vakt.js itself: one line saying Node 24 is needed, exit 2.
if [ "$(cut -d. -f1 <<<"${system_node#v}")" -lt 24 ]; then
  bin_out=$(PATH=$system_path node bin/vakt.js --version 2>&1) && bin_rc=0 || bin_rc=$?
  if [ "$bin_rc" != 2 ] || ! grep -q '^vakt: needs Node 24 or newer' <<<"$bin_out"; then
    echo "$bin_out"
    echo "test-all: Node $system_node running bin/vakt.js: exit $bin_rc, expected 2 and one line naming Node 24" >&2
    exit 1
  fi
fi
echo "npx vakt --version with Node $system_node running npm: $npx_out, no engine warnings"

echo "== lint and format"
npm run --silent lint
echo "== typecheck"
npm run --silent typecheck
echo "== tests"
npm test
echo "test-all: done in $((SECONDS - start))s"
