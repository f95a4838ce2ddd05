#!/usr/bin/env bash
# Run the static checks (ruff check, ruff format --check, mypy on engine/), then the whole test suite on a
# fresh machine (installs what it needs into .venv first): once on SQLite, then a second time on PostgreSQL
# when a server answers (LAPOR_TEST_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
# Without a server the PostgreSQL run and the PostgreSQL-only tests are skipped, and this says so; under
# CI=true that is a failure. A failed check fails the script too, at the end: the tests run all the same,
# so one run shows everything.
# The load test (marked load) runs once, in the PostgreSQL run.
# The browser tests (tests/e2e, marked e2e: Debian's Chromium through Playwright, their own server process
# and SQLite database) run once, in the SQLite run. Without Chromium this installs it when it can (root
# with apt-get); otherwise they skip, which under CI=true is a failure.
# Extra arguments go to both pytest runs, e.g.  bash test.sh -k worker -x
# LAPOR_TEST_WORKERS=N sets the pytest-xdist processes per run (default 2; 0 runs in this process).
set -uo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv || exit 1
.venv/bin/pip install -q --disable-pip-version-check -e ".[test]" || exit 1
# WeasyPrint (the records' PDFs) needs the system's Pango; Debian's packages when it is missing (root with apt-get)
if ! .venv/bin/python -c "import weasyprint" >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Pango is missing: installing Debian's packages for the PDF records (libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core) ..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; } \
        >/tmp/lapor-apt-pango.log 2>&1 || echo "  the installation failed (see /tmp/lapor-apt-pango.log); the PDF tests will skip" >&2
fi

workers=${LAPOR_TEST_WORKERS:-2}
parallel=()
[ "$workers" != 0 ] && parallel=(-n "$workers")
in_ci=false
case "${CI:-}" in 1 | true | TRUE | True | yes) in_ci=true ;; esac

have_chromium() { [ -x /usr/bin/chromium ] || command -v chromium >/dev/null; }
if ! have_chromium; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "Chromium is missing: installing Debian's package for the browser tests (apt-get install -y chromium) ..."
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/tmp/lapor-apt-chromium.log 2>&1 ||
            echo "  the installation failed (see /tmp/lapor-apt-chromium.log)" >&2
    fi
    have_chromium || echo "NOTE: Chromium not found: the browser tests (tests/e2e) will skip$([ "$in_ci" = true ] && echo ", which under CI=true is a failure"). Install it with: apt-get install -y chromium"
fi

failed_checks=""
check() {  # check NAME COMMAND...: run one static check; the summary names it when it fails
    echo "=== check: $1 ==="
    "${@:2}" || failed_checks+="${failed_checks:+, }$1"
}
check "ruff check" .venv/bin/ruff check .
check "ruff format" .venv/bin/ruff format --check .
check "mypy" .venv/bin/mypy engine  # configured by [tool.mypy] in pyproject.toml

echo "=== test run 1 of 2: SQLite ==="
# the load test (PostgreSQL with gunicorn, whatever the run's backend) runs once, in the PostgreSQL run
LAPOR_TEST_DB=sqlite .venv/bin/python -m pytest -p no:cacheprovider "${parallel[@]}" -m "not load" "$@"
sqlite_status=$?
[ "$sqlite_status" = 5 ] && sqlite_status=0  # no tests left, e.g. bash test.sh -m load

echo "=== test run 2 of 2: PostgreSQL ==="
if why=$(.venv/bin/python -c 'import sys; from tests.conftest import _pg_unavailable; r = _pg_unavailable(); print(r or ""); sys.exit(1 if r else 0)'); then
    # the browser tests ran in the SQLite run: they bring their own server and SQLite database
    LAPOR_TEST_DB=postgresql .venv/bin/python -m pytest -p no:cacheprovider "${parallel[@]}" -m "not e2e" "$@"
    pg_status=$?
    if [ "$pg_status" = 5 ]; then  # pytest: no tests left, e.g. bash test.sh tests/e2e
        echo "(nothing left for the PostgreSQL run: the selected tests are browser tests, run once in the SQLite run)"
        pg_status=0
    fi
elif [ "$in_ci" = true ]; then
    echo "FAILED: CI=true needs PostgreSQL, but ${why}" >&2
    pg_status=1
else
    echo "SKIPPED: the PostgreSQL run and the PostgreSQL-only tests, because ${why}."
    echo "         Start a server (or set LAPOR_TEST_PG_URL) to run them; under CI=true this is a failure."
    pg_status=0
fi

echo "=== checks: $([ -z "$failed_checks" ] && echo passed || echo "FAILED ($failed_checks)"); SQLite run: $([ "$sqlite_status" = 0 ] && echo passed || echo "FAILED (exit $sqlite_status)"); PostgreSQL run: $([ "$pg_status" = 0 ] && { [ -n "${why:-}" ] && echo skipped || echo passed; } || echo "FAILED (exit $pg_status)") ==="
[ -z "$failed_checks" ] && [ "$sqlite_status" = 0 ] && [ "$pg_status" = 0 ]
