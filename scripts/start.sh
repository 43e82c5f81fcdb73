#!/usr/bin/env bash
# The main job on a fresh machine: set up, then start vakt's local control plane
# (real etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok fake nodes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/node bin/vakt.js dev up --nodes 2 "$@"
