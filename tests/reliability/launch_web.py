"""The web app in a process of its own, for the kill tests, with a test-only hook that stops a completion midway.

    python -m tests.reliability.launch_web --hook {none,before-commit,after-commit}

Settings come from the environment as for `lapor serve` (LAPOR_DATABASE_URL, LAPOR_SECRET_KEY, ...).
It serves on a free loopback port with werkzeug's threaded server and prints ``PORT <n>``; when a
``POST /api/v1/tasks/<id>/complete`` reaches the hook it prints ``BLOCKED`` and waits forever (for the
SIGKILL the test sends):

- ``before-commit``: CaseService.complete_task has run and its writes are in the database, locked and
  uncommitted (the command's transaction is open);
- ``after-commit``: the route has committed, the response is not sent yet.

Nothing in web/ or engine/ knows this module; it wraps them from outside.
"""

from __future__ import annotations

import argparse
import sys
import threading

from flask import request
from werkzeug.serving import make_server

from engine import CaseService
from web import create_app


def _block() -> None:
    print("BLOCKED", flush=True)
    threading.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hook", choices=("none", "before-commit", "after-commit"), default="none")
    args = parser.parse_args(argv)
    app = create_app()
    if args.hook == "before-commit":
        original = CaseService.complete_task

        def complete_task(self, *a, **kw):  # type: ignore[no-untyped-def]
            case = original(self, *a, **kw)
            _block()
            return case

        CaseService.complete_task = complete_task  # type: ignore[method-assign]
    elif args.hook == "after-commit":

        @app.after_request
        def stop_after_commit(response):  # type: ignore[no-untyped-def]
            if request.method == "POST" and request.path.endswith("/complete") and response.status_code == 200:
                _block()
            return response

    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
