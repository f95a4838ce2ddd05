"""Fixtures for the security tests: the web app as tests/web builds it (fresh database of the chosen
backend, fake clock), with a factory for extra configuration, plus helpers every security test repeats:
counting rows, walking the URL map, driving a case to a given step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.db.tables import Base, Case, OpenTask
from tests.scenarios import COMPLAINT
from tests.web.conftest import Api, bearer
from web import create_app
from web.extensions import db

__all__ = ["Api", "bearer", "row_counts", "url_rules", "case_of", "open_tasks_of"]

STAFF = ("pusat", "kominfo", "pendidikan", "kesehatan", "binamarga", "bpn", "kemenag", "auditor", "analis")


@pytest.fixture
def make_app(tmp_path, clock, db_url) -> Iterator[Callable[..., Any]]:
    """Build the app on the test's database; keyword arguments are extra configuration."""
    made = []

    def build(**config: Any):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": db_url,
                "SECRET_KEY": "test",
                "TESTING": True,
                "LAPOR_CLOCK": clock,
                "LAPOR_ATTACHMENTS_DIR": str(tmp_path / "files"),
                "LAPOR_SUBMIT_RATE_LIMIT": "1000 per minute",  # many complaints from 127.0.0.1; None: the production limit
                **config,
            }
        )
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def row_counts(app) -> dict[str, int]:
    """Rows per table: equal before and after a refused request means nothing was written."""
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table)) or 0 for table in Base.metadata.sorted_tables}


def state_of(app) -> dict[str, Any]:
    """Row counts plus every case's version and every open task's claim: what a refused request must not change."""
    with app.app_context():
        versions = dict(db.session.execute(select(Case.tracking_id, Case.version)).all())
        claims = dict(db.session.execute(select(OpenTask.id, OpenTask.claimed_by)).all())
    return {"rows": row_counts(app), "versions": versions, "claims": claims}


def case_of(app, tracking_id: str) -> Case:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        db.session.expunge(case)
        return case


def open_tasks_of(app, tracking_id: str) -> list[OpenTask]:
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        rows = db.session.scalars(select(OpenTask).where(OpenTask.case_id == case.id).order_by(OpenTask.created_at)).all()
        for row in rows:
            db.session.expunge(row)
        return list(rows)


def url_rules(app, *, api: bool | None = None) -> Iterator[tuple[str, Any]]:
    """(method, rule) of every rule in the URL map (HEAD and OPTIONS left out); ``api`` True: only /api/v1, False: none of it."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        under_api = rule.rule.startswith("/api/v1")
        if api is not None and under_api != api:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


# names a route may give the case's tracking id, and the other objects a URL can name
TRACKING_ARGS = {"tracking_id", "tid"}


def build_url(rule, values: dict[str, Any]) -> str:
    """The rule's path with each argument filled from ``values`` (by name, else by converter: int → 1, other → "x")."""

    def fill(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if name in values:
            return str(values[name])
        if name in TRACKING_ARGS and "tracking_id" in values:
            return str(values["tracking_id"])
        if converter and converter.startswith(("int", "float")):
            return "1"
        return "x"

    return re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", fill, rule.rule)


def submit_case(api: Api, **changes: Any) -> dict[str, Any]:
    return api.submit(**changes)


def forward(api: Api, tracking_id: str, unit: str = "dinas-kesehatan") -> None:
    api.step("kominfo", tracking_id, {"unit": unit, "note": "Mohon ditindaklanjuti."})


COMPLAINT = COMPLAINT
