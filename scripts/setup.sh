#!/usr/bin/env bash
# Everything a fresh machine lacks, installed by the project itself: npm packages (including
# the Node 24 runtime from the `node` package), the control-plane binaries built from Go
# modules (cached outside the clone), and the compiled CLI. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1; }
missing=()
need git || missing+=(git)
need openssl || missing+=(openssl)
need npm || missing+=(npm)
# vakt report -o pdf prints through headless Chromium; its tests read the PDF back with pdftotext.
need chromium || missing+=(chromium)
need pdftotext || missing+=(poppler-utils)
# The evidence store's tests and bench run a real PostgreSQL server (initdb, pg_ctl; not on PATH).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
if ! need go; then
  echo "setup: Go >= 1.26 is required to build the control-plane binaries and is not on PATH." >&2
  echo "       Install it (https://go.dev/dl) and run this again." >&2
  exit 1
fi

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.vakt-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
# NIST's OSCAL JSON schema (the report tests validate against it) has no package to fetch it from;
# its one copy is the shared folder beside this clone. Keep it in the cache so a clone elsewhere
# on this machine finds it too (src/testing/oscal.ts looks in ../shared first, then here).
oscal_src="../shared/schemas/oscal"
oscal_cache="${VAKT_OSCAL_SCHEMA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vakt/schemas/oscal}"
if [ -d "$oscal_src" ]; then
  mkdir -p "$oscal_cache"
  cp "$oscal_src"/*.json "$oscal_cache"/
fi
bash scripts/build-tools.sh >/dev/null
# Velero, its AWS plugin and versitygw (S3 with Object Lock), for the backup tests (ADR 0025).
bash scripts/build-backup-tools.sh >/dev/null
npm run --silent build
