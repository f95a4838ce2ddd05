"""`lapor serve` as a developer starts it: the links in mail lead back to the server that sent them."""

from __future__ import annotations

import os
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.db.tables import OutboxMail
from tests.reliability.processes import complaint
from web import cli, settings
from web.extensions import db


def serve(monkeypatch, db_url: str, *args: str, **environment: str):
    """Run `lapor serve ARGS` with the server loop stood in for; return (the app it would serve, what it printed)."""
    for name in [n for n in os.environ if n.startswith(("LAPOR_", "MAIL_"))]:
        monkeypatch.delenv(name)
    for name, value in {"LAPOR_DATABASE_URL": db_url, "LAPOR_SECRET_KEY": "test", **environment}.items():
        monkeypatch.setenv(name, value)
    served = []
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda host, port, app, **options: served.append(app))
    result = CliRunner().invoke(cli.main, ["serve", "--no-worker", "--no-reload-process", *args])
    assert result.exit_code == 0, result.output
    return served[0], result


def mail_links(app) -> list[str]:
    """The links of every mail a complaint sent to ``app`` queues (the citizen's receipt, the liaison's notice)."""
    assert app.test_client().post("/api/v1/complaints", json=complaint()).status_code == 201
    with app.app_context():
        bodies = db.session.scalars(select(OutboxMail.body)).all()
        db.engine.dispose()
    assert len(bodies) >= 2
    return [link for body in bodies for link in re.findall(r"https?://[^\s\"'<>]+", body)]


def test_mail_links_follow_the_port_the_server_listens_on(monkeypatch, db_url):
    app, result = serve(monkeypatch, db_url, "--port", "5101")
    links = mail_links(app)
    assert links and all(link.startswith("http://127.0.0.1:5101/") for link in links), links
    assert "Tautan di email memakai http://127.0.0.1:5101" in result.output


def test_the_base_url_setting_wins_over_the_listening_address(monkeypatch, db_url):
    app, result = serve(monkeypatch, db_url, "--port", "5101", LAPOR_BASE_URL="https://lapor.jatimprov.go.id/")
    links = mail_links(app)
    assert links and all(link.startswith("https://lapor.jatimprov.go.id/") for link in links), links
    assert "Tautan di email memakai https://lapor.jatimprov.go.id." in result.output


def test_listening_on_every_address_asks_for_the_public_one(monkeypatch, db_url):
    app, result = serve(monkeypatch, db_url, "--host", "0.0.0.0", "--port", "8080")
    assert all(link.startswith("http://127.0.0.1:8080/") for link in mail_links(app))
    assert "LAPOR_BASE_URL" in result.stderr


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [("127.0.0.1", 5000, "http://127.0.0.1:5000"), ("::", 5101, "http://[::1]:5101"), ("lapor.local", 80, "http://lapor.local:80")],
)
def test_listening_url(host, port, url):
    assert settings.listening_url(host, port) == url
