"""Settings from the environment (LAPOR_*, MAIL_*; the list is in the README, "Commands")."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SENDER = "SP4N-LAPOR! Jawa Timur <noreply@lapor.jatimprov.go.id>"


def default_database_url() -> str:
    """SQLite in the checkout's instance/ folder, or under the environment's prefix when installed."""
    folder = PROJECT_ROOT / "instance" if (PROJECT_ROOT / "pyproject.toml").exists() else Path(sys.prefix) / "var" / "lapor"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'lapor.db'}"


def _secret_key() -> str:
    key = os.environ.get("LAPOR_SECRET_KEY")
    if key:
        return key
    # development: keep one random key per installation so sessions survive restarts
    key_file = Path(default_database_url().removeprefix("sqlite:///")).with_name("secret_key")
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEFAULT_BASE_URL = "http://127.0.0.1:5000"  # `lapor serve` replaces it with the address it listens on


def listening_url(host: str, port: int) -> str:
    """The base URL of a server listening on ``host``:``port``; a wildcard address becomes this machine's loopback."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def from_environment() -> dict:
    env = os.environ
    return {
        "SQLALCHEMY_DATABASE_URI": env.get("LAPOR_DATABASE_URL") or default_database_url(),
        "SECRET_KEY": _secret_key(),
        "LAPOR_BASE_URL": env.get("LAPOR_BASE_URL", "").strip().rstrip("/") or DEFAULT_BASE_URL,
        "LAPOR_TIMEZONE": env.get("LAPOR_TIMEZONE", "Asia/Jakarta"),
        "LAPOR_WORKER_INTERVAL": float(env.get("LAPOR_WORKER_INTERVAL", "5")),
        "LAPOR_ATTACHMENTS_DIR": env.get("LAPOR_ATTACHMENTS_DIR") or None,  # citizens' files, outside any static folder
        **mail_from_environment(),
    }


def mail_from_environment() -> dict:
    """Flask-Mail's settings (web/mail.py). Without MAIL_SERVER mail stays in the outbox (the development mailbox)."""
    env = os.environ

    def flag(name: str) -> bool:
        return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")

    return {
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT") or "25"),
        "MAIL_USE_TLS": flag("MAIL_USE_TLS"),
        "MAIL_USE_SSL": flag("MAIL_USE_SSL"),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER") or DEFAULT_SENDER,
    }
