"""A Flask app on a fresh database (SQLite or PostgreSQL, see tests/conftest.py) with the demo accounts and the project's process deployed.

No app context stays pushed while a test makes requests, so each request gets its own session,
as in production. ``api`` wraps the test client with the few steps every API test repeats.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios import COMPLAINT
from web import create_app
from web.extensions import db


@pytest.fixture
def app(tmp_path, clock, db_url):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": db_url,  # a fresh copy of the seeded template (tests/conftest.py)
            "SECRET_KEY": "test",
            "TESTING": True,
            "LAPOR_CLOCK": clock,
            "LAPOR_ATTACHMENTS_DIR": str(tmp_path / "files"),  # never the checkout's instance/ folder
            # tests send many complaints from 127.0.0.1; the production limit has its own tests (tests/security/test_hostile_input.py)
            "LAPOR_SUBMIT_RATE_LIMIT": "1000 per minute",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Api:
    """The JSON API as a client sees it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            response = self.client.post("/api/v1/auth/token", json={"username": username, "password": "demo-lapor"})
            assert response.status_code == 200, response.json
            self._tokens[username] = response.json["token"]
        return self._tokens[username]

    def forget_tokens(self) -> None:
        """Sign in afresh on the next call (after moving the clock past the tokens' 12 hours)."""
        self._tokens.clear()

    def submit(self, **changes: Any) -> dict[str, Any]:
        response = self.client.post("/api/v1/complaints", json={**COMPLAINT, **changes})
        assert response.status_code == 201, response.json
        return response.json

    def tasks(self, username: str) -> list[dict[str, Any]]:
        response = self.client.get("/api/v1/tasks", headers=bearer(self.token(username)))
        assert response.status_code == 200, response.json
        return response.json["tasks"]

    def task_of(self, username: str, tracking_id: str) -> dict[str, Any]:
        [task] = [t for t in self.tasks(username) if t["tracking_id"] == tracking_id]
        return task

    def complete(self, username: str, task_id: str, data: dict[str, Any]):
        return self.client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=bearer(self.token(username)))

    def step(self, username: str, tracking_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Complete the user's one open task of this case; return the response body."""
        response = self.complete(username, self.task_of(username, tracking_id)["id"], data)
        assert response.status_code == 200, response.json
        return response.json


@pytest.fixture
def api(client) -> Api:
    return Api(client)
