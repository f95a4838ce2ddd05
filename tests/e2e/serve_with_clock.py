"""`lapor serve` for the browser tests, with the server's clock read from a file (tests/e2e/fileclock.py).

    python -m tests.e2e.serve_with_clock --port P --clock-file F [--attachments DIR]

Everything else comes from the environment exactly as for `lapor serve` (LAPOR_DATABASE_URL,
LAPOR_BASE_URL, LAPOR_SECRET_KEY, LAPOR_WORKER_INTERVAL, MAIL_SERVER, MAIL_PORT, ...). It builds the app
with ``web.create_app`` handing in the clock (the ``LAPOR_CLOCK`` setting, which no environment variable
reaches) and runs it as `lapor serve` does: werkzeug's threaded server plus the worker loop of web/cli.py
in a daemon thread of the same process, both on the same clock. Test-only: production has no way to
load this module.
"""

from __future__ import annotations

import argparse
import logging
import threading

from werkzeug.serving import run_simple

from tests.e2e.fileclock import FileClock
from web import create_app, settings
from web.cli import _worker_loop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clock-file", required=True, help="file holding the server's current instant (ISO 8601 with offset)")
    parser.add_argument("--attachments", default=None, help="folder for uploaded attachments (default: the app's instance folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    config = settings.from_environment()
    config["LAPOR_CLOCK"] = FileClock(args.clock_file)
    config["LAPOR_ATTACHMENTS_DIR"] = args.attachments
    app = create_app(config)
    threading.Thread(target=_worker_loop, args=(app.config, threading.Event()), name="lapor-worker", daemon=True).start()
    print(f"SP4N-LAPOR! Flow (test clock {args.clock_file}) at http://{args.host}:{args.port}", flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
