#!/usr/bin/env bash
# Every check on a fresh machine: set up, lint and format, type-check, then every test
# (unit, conformance, golden, integration against one real local control plane).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/setup.sh
echo "== lint and format"
npm run --silent lint
echo "== typecheck"
npm run --silent typecheck
echo "== tests"
npm test
echo "test-all: done in $((SECONDS - start))s"
