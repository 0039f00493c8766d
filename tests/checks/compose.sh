#!/usr/bin/env bash
# Static check of docker-compose.yml and Dockerfile (see tests/checks/check_compose.py):
# the build machines have no Docker engine, so nothing is built or run here.
# Uses Debian's /usr/bin/python3, which has python3-yaml; a pyenv or venv python3
# earlier in PATH may not. Extra arguments go to the checker (e.g. --repo DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x /usr/bin/python3 ]; then
  echo "compose.sh: /usr/bin/python3 is missing: install python3 and python3-yaml (make deps)" >&2
  exit 1
fi
exec /usr/bin/python3 tests/checks/check_compose.py "$@"
