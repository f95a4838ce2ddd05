#!/usr/bin/env bash
# Run the service on a fresh machine: venv, install, schema + demo accounts, serve on http://127.0.0.1:5000.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e .
.venv/bin/lapor init --demo
exec .venv/bin/lapor serve "$@"
