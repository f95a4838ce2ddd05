"""Issue 8, figure 2: the inbox and Admin Pusat's case search at 1,000 and 100,000 cases.

A realistic mix is made by copying real cases (submitted and driven through the façade) in each state:
most closed, the open ones waiting at every step and spread over the five units, submitted over the
past years, with varied titles. Then, for each size: the inbox query of one unit user (with the
navigation counts a page also runs), the inbox page over HTTP-less WSGI (Flask test client: routing,
session, queries, template), and Admin Pusat's case list searched by a word of the title, by status
and by tracking id. Median and 95th percentile of repeated requests; the 100k/1k ratio.

    .venv/bin/python bench/inbox_scale.py [--backend sqlite|postgresql] [--sizes 1000 100000] [--requests 60]
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import database, median, percentile, pg_unavailable, renumbered, seed, table  # noqa: E402
from engine import Actor, CaseService, FakeClock  # noqa: E402
from engine.cases import inbox as inboxes  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.tables import Case, OpenTask  # noqa: E402
from tests.engine.support import holder  # noqa: E402
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, PUBLISH, SATISFIED  # noqa: E402
from web import create_app  # noqa: E402

START = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
UNITS = ["dinas-pendidikan", "dinas-kesehatan", "dinas-pu-bina-marga", "kanwil-bpn-jatim", "kanwil-kemenag-jatim"]
WORDS = ["jalan", "sekolah", "puskesmas", "sertifikat", "masjid", "jembatan", "banjir", "guru", "obat", "KUA", "irigasi", "lampu"]
PLACES = ["Surabaya", "Malang", "Sidoarjo", "Kediri", "Jember", "Banyuwangi", "Madiun", "Blitar", "Tuban", "Gresik"]
UNIT_USER = Actor("pendidikan", "satker", "dinas-pendidikan")
CHUNK = 2000


def templates(engine) -> list[tuple[dict, list[dict], float]]:
    """(case row, open-task rows, share of the population) for a case in each state and unit."""
    clock = FakeClock(START)
    made = []

    def drive(unit: str | None, steps: list, share: float) -> None:
        with Session(engine) as session:
            service = CaseService(session, clock)
            submitted = service.submit(COMPLAINT)
            session.commit()
            forward = [] if unit is None else [("Task_Disposisi", {"unit": unit})]
            for spec, data in forward + [(s.task, s.data) for s in steps]:
                row = session.scalar(select(OpenTask).where(OpenTask.case_id == submitted.case.id, OpenTask.spec_name.like(spec + "%")))
                if row.role == "masyarakat":
                    service.reply(submitted.case.tracking_id, submitted.access_token, data)
                else:
                    service.complete_task(row.id, data, holder(row))
                session.commit()
            connection = session.connection()
            case = dict(connection.execute(select(Case.__table__).where(Case.id == submitted.case.id)).mappings().one())
            tasks = [dict(r) for r in connection.execute(select(OpenTask.__table__).where(OpenTask.case_id == submitted.case.id)).mappings()]
            made.append((case, tasks, share))

    drive(None, [], 0.10)  # with Admin Kominfo, to forward
    for unit in UNITS:
        satker = unit.startswith("dinas")
        accept = {"decision": "terima"}
        answer = ANSWER_SATKER.data
        drive(unit, [], 0.03)  # with the unit, to accept
        spec = "Task_Terima_Satker" if satker else "Task_Terima_Vertikal"
        drive(unit, [type(ACCEPT_SATKER)(spec, accept)], 0.02)  # accepted, to answer
        if satker:
            drive(unit, [ACCEPT_SATKER, type(ANSWER_SATKER)("Task_Tanggapan_Satker", answer), PUBLISH], 0.02)  # with the citizen
    drive("dinas-pendidikan", [ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, SATISFIED], 0.0)  # closed: takes the remaining share
    closed = made[-1]
    made[-1] = (closed[0], closed[1], 1 - sum(share for _c, _t, share in made[:-1]))
    return made


def populate(engine, size: int) -> None:
    rng = random.Random(size)
    made = templates(engine)
    with Session(engine) as session:
        next_id = (session.scalar(text('SELECT max(id) FROM "case"')) or 0) + 1
    remaining = size - len(made)
    counts = [int(remaining * share) for _c, _t, share in made]
    counts[-1] += remaining - sum(counts)
    plan = list(itertools.chain.from_iterable([i] * n for i, n in enumerate(counts)))
    rng.shuffle(plan)
    for start in range(0, len(plan), CHUNK):
        cases, tasks = [], []
        for index in plan[start : start + CHUNK]:
            case_row, task_rows, _share = made[index]
            state, fresh = renumbered(case_row["state"])
            submitted = START - timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
            title = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} di {rng.choice(PLACES)} nomor {next_id}"
            cases.append({**case_row, "id": next_id, "tracking_id": f"LPR-{next_id:08d}", "state": state, "title": title, "submitted_at": submitted})
            for row in task_rows:
                tasks.append({**row, "id": fresh[row["id"]], "case_id": next_id, "created_at": submitted, "due_at": submitted + timedelta(days=1)})
            next_id += 1
        with engine.begin() as connection:
            connection.execute(insert(Case.__table__), cases)
            if tasks:
                connection.execute(insert(OpenTask.__table__), tasks)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), :v)"), {"v": next_id})
        connection.execute(text("ANALYZE"))


def timed(function, repeat: int) -> list[float]:
    function()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def measure(backend: str, size: int, repeat: int) -> dict[str, list[float]]:
    with database(backend) as url:
        engine = make_engine(url)
        seed(engine, FakeClock(START))
        started = time.perf_counter()
        populate(engine, size)
        print(f"{backend} {size:,} cases populated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "LAPOR_CLOCK": FakeClock(START), "WTF_CSRF_ENABLED": False})
        unit, pusat = app.test_client(), app.test_client()
        for client, username in ((unit, "pendidikan"), (pusat, "pusat")):
            assert client.post("/masuk", data={"username": username, "password": "demo-lapor"}).status_code == 302

        def inbox_query() -> None:
            with Session(engine) as session:
                inboxes.inbox(session, UNIT_USER)
                inboxes.counts(session, UNIT_USER)

        def get(client, path: str):
            def call() -> None:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            return call

        results = {
            "inbox query (unit user)": timed(inbox_query, repeat),
            "inbox page /tugas (unit user)": timed(get(unit, "/tugas"), repeat),
            "case search by title word (pusat)": timed(get(pusat, "/kasus?q=puskesmas"), repeat),
            "case list by status (pusat)": timed(get(pusat, "/kasus?status=didisposisikan"), repeat),
            "case search by tracking id (pusat)": timed(get(pusat, f"/kasus?q=LPR-{size // 2:08d}"), repeat),
        }
        with app.app_context():
            from web.extensions import db

            db.engine.dispose()
        engine.dispose()
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sizes", type=int, nargs=2, default=(1000, 100_000), metavar=("SMALL", "LARGE"))
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    if args.backend == "postgresql" and (reason := pg_unavailable()):
        sys.exit(f"PostgreSQL unavailable: {reason}")
    small, large = (measure(args.backend, size, args.requests) for size in args.sizes)
    rows = []
    for name in small:
        ratio = median(large[name]) / median(small[name])
        rows.append(
            (
                name,
                f"{median(small[name]) * 1000:.1f} / {percentile(small[name], 0.95) * 1000:.1f}",
                f"{median(large[name]) * 1000:.1f} / {percentile(large[name], 0.95) * 1000:.1f}",
                f"{ratio:.2f}",
            )
        )
    a, b = args.sizes
    print(f"\n{args.backend}: median / p95 in ms over {args.requests} requests (goal: p95 < 50 ms at 100k, ratio < 1.5)")
    print(table(("what", f"{a:,} cases", f"{b:,} cases", "ratio (medians)"), rows))


if __name__ == "__main__":
    main()
