"""Notifications on the pages (the bell, mark read) and in the API; Admin Pusat's failed-mail list; the dev mailbox."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import template_rendered
from sqlalchemy import select, update

from engine.db.tables import Notification, OutboxMail, User
from engine.notifications.mailer import MAX_ATTEMPTS
from tests.web.conftest import bearer
from tests.web.pages import csrf, login
from web.extensions import db


@contextmanager
def rendered(app):
    """The (template name, context) of every template rendered meanwhile."""
    seen: list[tuple[str, dict]] = []

    def record(sender, template, context, **extra):
        seen.append((template.name, context))

    with template_rendered.connected_to(record, app):
        yield seen


def unread_bell(app, client, path: str = "/tugas") -> int:
    with rendered(app) as seen:
        assert client.get(path).status_code == 200
    return seen[-1][1]["nav_unread"]


def notification_ids(app, username: str) -> list[int]:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return list(db.session.scalars(select(Notification.id).where(Notification.user_id == user.id).order_by(Notification.id)))


def is_read(app, notification_id: int) -> bool:
    with app.app_context():
        return db.session.get(Notification, notification_id).read


# ---- pages -----------------------------------------------------------------------------------------


def test_bell_counts_unread_and_one_notification_can_be_marked_read(app, api):
    first = api.submit()["tracking_id"]
    api.submit()
    kominfo = login(app, "kominfo")
    assert unread_bell(app, kominfo) == 2
    older, newer = notification_ids(app, "kominfo")

    page = kominfo.get("/notifikasi").get_data(as_text=True)
    assert page.count('class="unread"') == 2 and f'href="/kasus/{first}"' in page
    response = kominfo.post(f"/notifikasi/{older}/baca", data={"csrf_token": csrf(kominfo, "/notifikasi")})

    assert response.status_code == 302 and response.location.endswith("/notifikasi")
    assert is_read(app, older) and not is_read(app, newer)
    assert unread_bell(app, kominfo) == 1
    page = kominfo.get("/notifikasi").get_data(as_text=True)
    assert f'id="notif-{older}" class="read"' in page and f'id="notif-{newer}" class="unread"' in page


def test_mark_all_read_clears_the_bell(app, api):
    api.submit()
    api.submit()
    kominfo = login(app, "kominfo")
    assert kominfo.post("/notifikasi", data={"csrf_token": csrf(kominfo, "/notifikasi")}).status_code == 302
    assert unread_bell(app, kominfo) == 0
    assert all(is_read(app, i) for i in notification_ids(app, "kominfo"))


def test_a_notification_about_a_task_is_read_once_the_task_is_done(app, api):
    done, waiting = api.submit()["tracking_id"], api.submit()["tracking_id"]
    kominfo = login(app, "kominfo")
    assert unread_bell(app, kominfo) == 2
    api.step("kominfo", done, {"unit": "dinas-pendidikan"})  # the same role, through the API: by anyone, the work is done
    assert unread_bell(app, kominfo) == 1
    of_done, of_waiting = notification_ids(app, "kominfo")[:2]  # in the order the cases came
    page = kominfo.get("/notifikasi").get_data(as_text=True)
    assert f'id="notif-{of_done}" class="read"' in page and f'id="notif-{of_waiting}" class="unread"' in page
    assert f'href="/kasus/{waiting}"' in page
    pendidikan = login(app, "pendidikan")
    assert unread_bell(app, pendidikan) == 1  # the unit's notice of the step that follows is news
    api.step("pendidikan", done, {"decision": "terima"})
    assert unread_bell(app, pendidikan) == 0


def test_another_users_notification_cannot_be_marked_read(app, api):
    api.submit()
    [note] = notification_ids(app, "kominfo")
    pendidikan = login(app, "pendidikan")
    response = pendidikan.post(f"/notifikasi/{note}/baca", data={"csrf_token": csrf(pendidikan, "/notifikasi")})
    assert response.status_code == 404 and not is_read(app, note)


def test_marking_read_needs_the_csrf_token(app, api):
    api.submit()
    [note] = notification_ids(app, "kominfo")
    kominfo = login(app, "kominfo")
    assert kominfo.post(f"/notifikasi/{note}/baca").status_code == 400
    assert not is_read(app, note)


# ---- API ---------------------------------------------------------------------------------------------


def test_api_marks_a_notification_read(api, client, app):
    api.submit()
    kominfo = bearer(api.token("kominfo"))
    [note] = client.get("/api/v1/notifications", headers=kominfo).json["notifications"]

    response = client.post(f"/api/v1/notifications/{note['id']}/read", headers=kominfo)

    assert response.status_code == 200 and response.json == {"id": note["id"], "read": True}
    assert client.get("/api/v1/notifications", headers=kominfo).json["notifications"] == [{**note, "read": True}]
    assert client.get("/api/v1/notifications?unread=true", headers=kominfo).json["notifications"] == []
    assert client.post(f"/api/v1/notifications/{note['id']}/read", headers=kominfo).status_code == 200  # idempotent


def test_api_answers_404_for_another_users_or_a_missing_notification(api, client, app):
    api.submit()
    [note] = notification_ids(app, "kominfo")
    response = client.post(f"/api/v1/notifications/{note}/read", headers=bearer(api.token("pendidikan")))
    assert response.status_code == 404 and response.json["error"]
    assert not is_read(app, note)
    assert client.post("/api/v1/notifications/999999/read", headers=bearer(api.token("kominfo"))).status_code == 404
    assert client.post(f"/api/v1/notifications/{note}/read").status_code == 401


# ---- Admin Pusat: failed mail --------------------------------------------------------------------------


def fail_all_mail(app) -> None:
    """As if every mail had been refused MAX_ATTEMPTS times; the server's message quotes the recipient, as real ones do."""
    refused = "SMTPRecipientsRefused: 550 no such user " + OutboxMail.to_addr
    with app.app_context():
        db.session.execute(update(OutboxMail).values(status="failed", attempts=MAX_ATTEMPTS, last_error=refused))
        db.session.commit()


def test_failed_mail_is_listed_for_admin_pusat_without_the_reporters_address(app, api):
    tracking_id = api.submit()["tracking_id"]
    fail_all_mail(app)
    pusat = login(app, "pusat")
    page = pusat.get("/kasus").get_data(as_text=True)
    assert "Surel gagal" in page and f"Laporan Anda telah diterima: {tracking_id}" in page
    assert "siti@example.id" not in page and "&lt;alamat pelapor&gt;" in page
    assert "Surel gagal" not in login(app, "auditor").get("/kasus").get_data(as_text=True)


def test_admin_pusat_puts_a_failed_mail_back_in_the_queue(app, api):
    api.submit()
    fail_all_mail(app)
    with app.app_context():
        mail_id, message_id = db.session.execute(select(OutboxMail.id, OutboxMail.message_id).order_by(OutboxMail.id)).first()
    pusat = login(app, "pusat")
    response = pusat.post(f"/surel/{mail_id}/kirim-ulang", data={"csrf_token": csrf(pusat, "/kasus")})
    assert response.status_code == 302
    with app.app_context():
        mail = db.session.get(OutboxMail, mail_id)
        assert (mail.status, mail.attempts, mail.message_id) == ("queued", 0, message_id)
    kominfo = login(app, "kominfo")
    assert kominfo.post(f"/surel/{mail_id}/kirim-ulang", data={"csrf_token": csrf(kominfo, "/tugas")}).status_code == 403


# ---- the development mailbox ------------------------------------------------------------------------------


def test_dev_mailbox_shows_queued_mail_with_its_html_part(app, api, client):
    app.config["LAPOR_DEV_MAILBOX"] = True  # as `lapor serve` starts it without MAIL_SERVER
    tracking_id = api.submit()["tracking_id"]
    page = client.get("/dev/kotak-surat").get_data(as_text=True)
    assert f"Laporan Anda telah diterima: {tracking_id}" in page and "queued" in page
    assert "<iframe sandbox" in page and "srcdoc=" in page and "&lt;!DOCTYPE html&gt;" in page


@pytest.mark.parametrize("config", [{"LAPOR_DEV_MAILBOX": True, "MAIL_SERVER": "smtp.example.test"}, {"LAPOR_DEV_MAILBOX": False}])
def test_dev_mailbox_is_gone_when_mail_goes_out(app, client, config):
    app.config.update(config)
    assert client.get("/dev/kotak-surat").status_code == 404
