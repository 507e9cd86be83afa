#!/usr/bin/env bash
# Validates the Kubernetes manifests offline against the Kubernetes API schemas, strictly
# (unknown fields fail), with kubernetes-validate from PyPI in a cached virtualenv. Every file
# in deploy/kubernetes but the kustomization must be one of its resources. That the settings,
# probes and port agree with the real program is the integration test
# `deploy::the_kubernetes_manifests_configure_the_real_program_and_agree_with_each_other`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/deploy/kubernetes"
log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

VERSION="1.37.0"
VENV="${KUBERNETES_VALIDATE_VENV:-$HOME/.cache/optimus/kubernetes-validate-$VERSION}"
if [ ! -x "$VENV/bin/kubernetes-validate" ]; then
  log "installing kubernetes-validate $VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$VERSION"
fi

resources="$("$VENV/bin/python" -c 'import yaml; print(" ".join(yaml.safe_load(open("kustomization.yaml"))["resources"]))')"
for f in *.yaml; do
  [ "$f" = kustomization.yaml ] && continue
  case " $resources " in *" $f "*) ;; *) echo "kubernetes: $f is not a resource of kustomization.yaml" >&2; exit 1 ;; esac
done
log "Kubernetes manifests: strict schema validation ($resources)"
# shellcheck disable=SC2086
"$VENV/bin/kubernetes-validate" --strict --quiet $resources
