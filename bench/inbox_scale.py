"""Issue 20: the inbox as a year grows, and Admin Pusat's case search, at 1,000 and 100,000 cases.

A year's growth is closed cases: a unit's open tasks stay about the same however many cases the office has
handled. So three populations are made by copying real cases (submitted and driven through the façade, with
their open-task rows and their notifications) in each state:

- small:    SMALL cases; the measured unit (Dinas Pendidikan) holds OPEN open tasks, every other holder a fixed
            few (Admin Kominfo, the four other units, citizens asked for their verdict); the rest are closed;
- large:    LARGE cases with exactly the same open tasks: only the closed cases grew;
- crowded:  LARGE cases of which the unit holds CROWDED open tasks (a unit far behind).

Closed cases keep their notifications (read), as a year leaves them in every staff member's list. Then, rounds
alternated over the populations (a busy moment on the shared machine hits all alike): the inbox query of the unit
user with the navigation counts every staff page runs (open tasks, overdue, unread notifications), the inbox page
``/tugas`` over WSGI (Flask test client: routing, session, queries, template), and Admin Pusat's case list
searched by a word of the title, by status and by tracking id. Median and 95th percentile; the large/small ratio
of medians (goal < 1.5) and the crowded page's p95 (goal < 50 ms). Last, the plan of every statement the page
sends on the large populations (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL).

    .venv/bin/python bench/inbox_scale.py [--backend sqlite|postgresql|both] [--sizes 1000 100000] [--open 50]
                                          [--crowded 5000] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import Engine, event, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import database, median, percentile, pg_unavailable, renumbered, seed, table  # noqa: E402
from engine import Actor, CaseService, FakeClock  # noqa: E402
from engine.cases import inbox as inboxes  # noqa: E402
from engine.db.connection import make_engine  # noqa: E402
from engine.db.tables import Case, Notification, OpenTask, User  # noqa: E402
from engine.notifications import notify  # noqa: E402
from tests.engine.support import holder  # noqa: E402
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, PUBLISH, SATISFIED, Do  # noqa: E402
from web import create_app  # noqa: E402

START = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
UNIT = "dinas-pendidikan"
UNITS = [UNIT, "dinas-kesehatan", "dinas-pu-bina-marga", "kanwil-bpn-jatim", "kanwil-kemenag-jatim"]
SATKER = [u for u in UNITS if u.startswith("dinas")]
WORDS = ["jalan", "sekolah", "puskesmas", "sertifikat", "masjid", "jembatan", "banjir", "guru", "obat", "KUA", "irigasi", "lampu"]
PLACES = ["Surabaya", "Malang", "Sidoarjo", "Kediri", "Jember", "Banyuwangi", "Madiun", "Blitar", "Tuban", "Gresik"]
UNIT_USER = Actor("pendidikan", "satker", UNIT)
# every other holder's open tasks, the same in every population: Admin Kominfo's, each other unit's, the citizens'
OTHERS_OPEN = {"kominfo": 100, "unit": 50, "citizen": 60}
CHUNK = 2000


@dataclass(frozen=True)
class Template:
    """A real case in one state: its row, its open-task rows and its notifications, copied as often as needed."""

    case: dict
    tasks: list[dict]
    notifications: list[dict]
    closed: bool = False


@dataclass
class Population:
    label: str
    engine: Engine
    clients: dict[str, FlaskClient] = field(default_factory=dict)
    statements: list[tuple[str, object]] = field(default_factory=list)  # the page's, captured once for the plans


def templates(engine: Engine) -> dict[str, Template]:
    """A case in each state and unit, driven through the façade: "kominfo" (to forward), "accept:<unit>",
    "answer:<unit>", "citizen:<satker>" (the answer published, the citizen's verdict awaited), "closed:<satker>"."""
    clock = FakeClock(START)
    made: dict[str, Template] = {}

    def drive(name: str, unit: str | None, steps: list[Do]) -> None:
        with Session(engine) as session:
            service = CaseService(session, clock)
            submitted = service.submit(COMPLAINT)
            session.commit()
            forward = [] if unit is None else [Do("Task_Disposisi", {"unit": unit})]
            for step in forward + steps:
                row = session.scalar(select(OpenTask).where(OpenTask.case_id == submitted.case.id, OpenTask.spec_name.like(step.task + "%")))
                assert row is not None, (name, step.task)
                if row.role == "masyarakat":
                    service.reply(submitted.case.tracking_id, submitted.access_token, step.data)
                else:
                    service.complete_task(row.id, step.data, holder(row))
                session.commit()
            connection = session.connection()
            of_case = submitted.case.id
            case = dict(connection.execute(select(Case.__table__).where(Case.id == of_case)).mappings().one())
            tasks = [dict(r) for r in connection.execute(select(OpenTask.__table__).where(OpenTask.case_id == of_case)).mappings()]
            notes = [dict(r) for r in connection.execute(select(Notification.__table__).where(Notification.case_id == of_case)).mappings()]
            made[name] = Template(case, tasks, [{k: v for k, v in n.items() if k != "id"} for n in notes], closed=not tasks)

    drive("kominfo", None, [])
    for unit in UNITS:
        satker = unit in SATKER
        drive(f"accept:{unit}", unit, [])
        drive(f"answer:{unit}", unit, [Do("Task_Terima_Satker" if satker else "Task_Terima_Vertikal", {"decision": "terima"})])
        if satker:
            answered = [ACCEPT_SATKER, ANSWER_SATKER, PUBLISH]
            drive(f"citizen:{unit}", unit, answered)
            drive(f"closed:{unit}", unit, [*answered, SATISFIED])
    assert all(t.closed == name.startswith("closed") for name, t in made.items())
    return made


def plan(size: int, unit_open: int) -> dict[str, int]:
    """How many copies of each template: the unit's open tasks half to accept, half to answer; the others fixed;
    the rest closed, spread over the units that close cases in the templates."""
    counts = {f"accept:{UNIT}": unit_open // 2, f"answer:{UNIT}": unit_open - unit_open // 2, "kominfo": OTHERS_OPEN["kominfo"]}
    for unit in UNITS[1:]:
        counts[f"accept:{unit}"] = OTHERS_OPEN["unit"] // 2
        counts[f"answer:{unit}"] = OTHERS_OPEN["unit"] - OTHERS_OPEN["unit"] // 2
    for i, unit in enumerate(SATKER):
        counts[f"citizen:{unit}"] = OTHERS_OPEN["citizen"] // len(SATKER) + (i < OTHERS_OPEN["citizen"] % len(SATKER))
    closed = size - sum(counts.values())
    assert closed >= len(SATKER) and min(counts.values()) >= 1, f"{size} cases cannot hold {sum(counts.values())} open ones"
    for i, unit in enumerate(SATKER):
        counts[f"closed:{unit}"] = closed // len(SATKER) + (i < closed % len(SATKER))
    return counts


def populate(engine: Engine, size: int, unit_open: int) -> None:
    """``size`` cases by ``plan``: open cases submitted in the last 60 days (tasks past their deadline overdue), closed
    ones over the last three years with their notifications read."""
    rng = random.Random(size + unit_open)
    made = templates(engine)
    with Session(engine) as session:
        next_id = (session.scalar(select(func.max(Case.id))) or 0) + 1
    # the templates stay in the database: one case of each state fewer to copy
    order = [name for name, n in plan(size, unit_open).items() for _ in range(n - 1)]
    rng.shuffle(order)
    for start in range(0, len(order), CHUNK):
        cases, tasks, notes = [], [], []
        for name in order[start : start + CHUNK]:
            template = made[name]
            # fresh task ids for an open case (they are in its state); a closed case's state is copied as it is (nothing
            # here loads it, and renumbering 240 ids per case would take most of the population's time)
            state, fresh = (template.case["state"], {}) if template.closed else renumbered(template.case["state"])
            days = 3 * 365 if template.closed else 60
            submitted = START - timedelta(minutes=rng.randrange(0, days * 24 * 60))
            title = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} di {rng.choice(PLACES)} nomor {next_id}"
            cases.append(
                {**template.case, "id": next_id, "tracking_id": f"LPR-{next_id:08d}", "state": state, "title": title, "submitted_at": submitted}
            )
            for row in template.tasks:
                due = submitted + timedelta(days=1)
                tasks.append({**row, "id": fresh[row["id"]], "case_id": next_id, "created_at": submitted, "due_at": due, "overdue": due <= START})
            notes += [{**n, "case_id": next_id, "at": submitted, "read": template.closed} for n in template.notifications]
            next_id += 1
        with engine.begin() as connection:
            connection.execute(insert(Case.__table__), cases)
            for table_, rows in ((OpenTask.__table__, tasks), (Notification.__table__, notes)):
                if rows:
                    connection.execute(insert(table_), rows)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT setval(pg_get_serial_sequence('\"case\"', 'id'), :v)"), {"v": next_id})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def make_population(stack: ExitStack, backend: str, label: str, size: int, unit_open: int) -> Population:
    url = stack.enter_context(database(backend))
    engine = make_engine(url)
    stack.callback(engine.dispose)
    seed(engine, FakeClock(START))
    started = time.perf_counter()
    populate(engine, size, unit_open)
    with Session(engine) as session:
        held = inboxes.counts(session, UNIT_USER)[0]
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
    assert (cases, held) == (size, unit_open), (cases, held)
    took = time.perf_counter() - started
    print(f"{backend} {label}: {cases:,} cases, the unit holds {held:,} open tasks; populated in {took:.0f} s", file=sys.stderr)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "LAPOR_CLOCK": FakeClock(START), "WTF_CSRF_ENABLED": False})
    population = Population(label, engine)
    for username in ("pendidikan", "pusat"):
        client = app.test_client()
        assert client.post("/masuk", data={"username": username, "password": "demo-lapor"}).status_code == 302
        population.clients[username] = client
    with app.app_context():
        from web.extensions import db

        stack.callback(db.engine.dispose)
        capture = lambda _conn, _cursor, statement, parameters, _context, _many: population.statements.append((statement, parameters))  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", capture)
        population.clients["pendidikan"].get("/tugas")
        event.remove(db.engine, "before_cursor_execute", capture)
    return population


def plans(population: Population) -> list[str]:
    """The plan of each statement the inbox page sent, one line each."""
    engine = population.engine
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    lines = []
    with engine.connect() as connection:
        for statement, parameters in population.statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()  # type: ignore[arg-type]
            lines.append(" ".join(statement.split())[:160] + "\n      -> " + " | ".join(str(row[-1]).strip() for row in rows))
    return lines


def probes(population: Population, size: int) -> dict[str, Callable[[], None]]:
    with Session(population.engine) as session:
        user_id = session.scalar(select(User.id).where(User.username == UNIT_USER.username))
    assert user_id is not None

    def inbox_query() -> None:
        with Session(population.engine) as session:
            inboxes.inbox(session, UNIT_USER)
            inboxes.counts(session, UNIT_USER)
            notify.unread_count(session, user_id)

    def get(username: str, path: str) -> Callable[[], None]:
        client = population.clients[username]

        def call() -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return call

    return {
        "inbox query (unit user, with the navigation counts)": inbox_query,
        "inbox page /tugas (unit user)": get("pendidikan", "/tugas"),
        "case search by a title word (pusat)": get("pusat", "/kasus?q=puskesmas"),
        "case list by status (pusat)": get("pusat", "/kasus?status=didisposisikan"),
        "case search by tracking id (pusat)": get("pusat", f"/kasus?q=LPR-{size // 2:08d}"),
    }


def bench_backend(backend: str, sizes: tuple[int, int], unit_open: int, crowded: int, requests: int) -> None:
    small_n, large_n = sizes
    with ExitStack() as stack:
        populations = [
            make_population(stack, backend, "small", small_n, unit_open),
            make_population(stack, backend, "large", large_n, unit_open),
            make_population(stack, backend, "crowded", large_n, crowded),
        ]
        calls = [probes(p, small_n if p.label == "small" else large_n) for p in populations]
        times: list[dict[str, list[float]]] = [{name: [] for name in c} for c in calls]
        for c in calls:
            for call in c.values():
                call()  # warm-up: caches, imports, the first page's template compiled
        load_before = os.getloadavg()
        for _ in range(requests):
            for c, t in zip(calls, times, strict=True):
                for name, call in c.items():
                    started = time.perf_counter()
                    call()
                    t[name].append(time.perf_counter() - started)
        small, large, crowd = times
        fmt = lambda values: f"{median(values) * 1000:.1f} / {percentile(values, 0.95) * 1000:.1f}"  # noqa: E731
        rows = [(name, fmt(small[name]), fmt(large[name]), f"{median(large[name]) / median(small[name]):.2f}") for name in small]
        loads = " → ".join(" ".join(f"{a:.2f}" for a in averages) for averages in (load_before, os.getloadavg()))
        print(f"\n{backend}: median / p95 in ms over {requests} requests each, rounds alternated; load average {loads}")
        print(f"the unit holds {unit_open:,} open tasks in both populations; only closed cases grow (goal: ratio of medians < 1.5)")
        print(table(("what", f"{small_n:,} cases", f"{large_n:,} cases", "ratio"), rows))
        print(f"\nthe unit holds {crowded:,} open tasks among {large_n:,} cases (goal: the page's p95 < 50 ms)")
        print(table(("what", "median / p95"), [(name, fmt(crowd[name])) for name in list(crowd)[:2]]))
        for population in populations[1:]:
            print(f"\n{backend} {population.label}: plans of the statements the inbox page sends")
            for line in plans(population):
                print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sizes", type=int, nargs=2, default=(1000, 100_000), metavar=("SMALL", "LARGE"))
    parser.add_argument("--open", type=int, default=50, help="the unit's open tasks in the small and large populations")
    parser.add_argument("--crowded", type=int, default=5000, help="the unit's open tasks in the crowded population")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    for backend in ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]:
        if backend == "postgresql" and (reason := pg_unavailable()):
            print(f"postgresql: skipped, no server ({reason})")
            continue
        bench_backend(backend, tuple(args.sizes), args.open, args.crowded, args.requests)


if __name__ == "__main__":
    main()
