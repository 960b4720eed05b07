#!/usr/bin/env bash
# Trains models/ridedesk.tar.gz when the data, the domain, the config or our NLU component
# changed since the last training; otherwise keeps the model (fast `make run`).
set -euo pipefail
cd "$(dirname "$0")/.."

fingerprint=$(cat config.yml domain.yml ridedesk/nlu/entities.py $(find data -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.txt' -o -name '*.py' \) | sort) | sha256sum | cut -d' ' -f1)
if [ -f models/ridedesk.tar.gz ] && [ "$(cat models/.fingerprint 2>/dev/null)" = "$fingerprint" ] && [ "${FORCE_TRAIN:-0}" != 1 ]; then
  echo "==> model is up to date (models/ridedesk.tar.gz)"
  exit 0
fi
echo "==> training the model (data, domain or config changed)"
start=$(date +%s)
.venv/bin/rasa train --fixed-model-name ridedesk --out models --quiet
echo "$fingerprint" > models/.fingerprint
echo "==> trained in $(( $(date +%s) - start )) s"
