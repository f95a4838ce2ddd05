#!/usr/bin/env bash
# Run the whole test suite on a fresh machine (installs what it needs into .venv first): once on
# SQLite, then a second time on PostgreSQL when a server answers (LAPOR_TEST_PG_URL, default
# postgresql+psycopg://postgres@127.0.0.1:5432/postgres). Without a server the PostgreSQL run and
# the PostgreSQL-only tests are skipped, and this says so; under CI=true that is a failure.
# Extra arguments go to both pytest runs, e.g.  bash test.sh -k worker -x
# LAPOR_TEST_WORKERS=N sets the pytest-xdist processes per run (default 2; 0 runs in this process).
set -uo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv || exit 1
.venv/bin/pip install -q --disable-pip-version-check -e ".[test]" || exit 1

workers=${LAPOR_TEST_WORKERS:-2}
parallel=()
[ "$workers" != 0 ] && parallel=(-n "$workers")
in_ci=false
case "${CI:-}" in 1 | true | TRUE | True | yes) in_ci=true ;; esac

echo "=== test run 1 of 2: SQLite ==="
LAPOR_TEST_DB=sqlite .venv/bin/python -m pytest -p no:cacheprovider "${parallel[@]}" "$@"
sqlite_status=$?

echo "=== test run 2 of 2: PostgreSQL ==="
if why=$(.venv/bin/python -c 'import sys; from tests.conftest import _pg_unavailable; r = _pg_unavailable(); print(r or ""); sys.exit(1 if r else 0)'); then
    LAPOR_TEST_DB=postgresql .venv/bin/python -m pytest -p no:cacheprovider "${parallel[@]}" "$@"
    pg_status=$?
elif [ "$in_ci" = true ]; then
    echo "FAILED: CI=true needs PostgreSQL, but ${why}" >&2
    pg_status=1
else
    echo "SKIPPED: the PostgreSQL run and the PostgreSQL-only tests, because ${why}."
    echo "         Start a server (or set LAPOR_TEST_PG_URL) to run them; under CI=true this is a failure."
    pg_status=0
fi

echo "=== SQLite run: $([ "$sqlite_status" = 0 ] && echo passed || echo "FAILED (exit $sqlite_status)"); PostgreSQL run: $([ "$pg_status" = 0 ] && { [ -n "${why:-}" ] && echo skipped || echo passed; } || echo "FAILED (exit $pg_status)") ==="
[ "$sqlite_status" = 0 ] && [ "$pg_status" = 0 ]
