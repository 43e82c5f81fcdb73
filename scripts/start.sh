#!/usr/bin/env bash
# The main job on a fresh machine: set up, start vakt's local control plane (real etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, kwok fake nodes) with vakt itself
# running (admission webhook and Tenant controller), then apply the example tenants.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node_modules/.bin/node bin/vakt.js dev up --nodes 2 "$@"
home=${VAKT_HOME:-$HOME/.vakt}
kubectl="$(bash scripts/build-tools.sh | tail -n 1)/kubectl --kubeconfig=$home/dev/kubeconfig"
# vakt installs the Tenant CRD at start; wait until the API server serves it.
$kubectl wait --for=condition=Established --timeout=60s crd/tenants.vakt.dev >/dev/null
$kubectl apply --server-side --field-manager=vakt-examples -f examples/tenants/
if [[ " $* " == *" --backups "* ]]; then
  # Velero runs a new Schedule first at its cron time: each tenant's first backup now, so that
  # vakt copies it off-site and drills it at once (vakt backup status shows the drill).
  node_modules/.bin/node bin/vakt.js backup now --kubeconfig "$home/dev/kubeconfig" --wait 180
fi
cat <<MSG

Example tenants applied. Look at them:
  export KUBECONFIG=$home/dev/kubeconfig
  $kubectl get tenants                      # Ready, reason, namespaces
  $kubectl get tenant carelink -o yaml | less   # status: conditions, children, skipped kinds
  $kubectl get ns,networkpolicies,resourcequotas -l vakt.dev/tenant=carelink -A
Kinds whose CRDs are not installed here (cert-manager, Velero, ...) are listed in the status as skipped.
With --backups: $kubectl get backuplocations, then vakt backup status (the drill comes within minutes).
MSG
