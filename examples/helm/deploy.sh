#!/usr/bin/env bash
# Helm installs or upgrades the release without --wait; rollwatch then tracks exactly the
# objects Helm rendered, and its exit code is the step's: 0 ready, 1 a rollout failed (with
# the reason and the failing container's log lines), 3 not ready in time, 4 no cluster access.
#
#   RELEASE=web NAMESPACE=shop CHART=./chart examples/helm/deploy.sh [HELM FLAGS...]
#
# Extra arguments go to `helm upgrade` (`--set image.tag=v2`, `-f values-prod.yaml`).
set -euo pipefail
release=${RELEASE:-web}
namespace=${NAMESPACE:-shop}
chart=${CHART:-./chart}

helm upgrade --install "$release" "$chart" --namespace "$namespace" --create-namespace "$@"
helm get manifest "$release" --namespace "$namespace" | rollwatch wait -f - -n "$namespace" --timeout 10m
