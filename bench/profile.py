"""Where the façade's time goes: pyinstrument over whole straight cases on a SQLite file (issue 20).

The same cases and commands as bench/lifecycle.py's façade way (a fresh session and commit per command), after one
case of warm-up; the plain SpiffWorkflow figure of the same case beside it. Writes the profile as text.

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python bench/profile.py [--cases 30] [--out bench/results/profile_facade.txt]
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyinstrument import Profiler  # noqa: E402

from bench.lifecycle import KINDS, Facade, Plain  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "profile_facade.txt")
    args = parser.parse_args()
    with ExitStack() as stack:
        facade = Facade("sqlite", KINDS["straight"], stack)
        facade.warm_up()
        plain = Plain(KINDS["straight"])
        plain.run(2)
        plain_ms = plain.run(args.cases) / args.cases * 1000
        profiler = Profiler(interval=0.0005)
        profiler.start()
        facade_ms = facade.run(args.cases) / args.cases * 1000
        profiler.stop()
    head = (
        f"bench/profile.py --cases {args.cases}: plain SpiffWorkflow {plain_ms:.1f} ms per case unprofiled; the façade on"
        f" SQLite {facade_ms:.1f} ms per case profiled (pyinstrument adds to it); load average {os.getloadavg()}\n"
    )
    args.out.write_text(head + profiler.output_text(unicode=False, color=False, show_all=False))
    print(head + f"written to {args.out}")


if __name__ == "__main__":
    main()
