"""engine/notifications/notify.py: what each notification and mail says, to whom, and never about the reporter; the bell's notifications.

Mail is read as a real SMTP server on loopback received it (tests/engine/mail_support.py).
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine import CaseService, NotFound
from engine.db.tables import Case, Notification, OutboxMail, User
from engine.notifications.notify import (
    REPORTER_TEMPLATES,
    WORK_TOPICS,
    Notifier,
    compose,
    mail_failed,
    mark_all_read,
    mark_read,
    notifications_of,
    unread_count,
    with_access_code,
)
from tests.engine.mail_support import (
    REPORTER,
    parts,
    rows,
    send,
    smtp_server,  # noqa: F401 - the "smtp" fixture
)
from tests.engine.support import (
    KOMINFO,
    TO_SELESAI,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    fire_due,
    open_row,
    submit,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH, Do

IDENTITY = {"name": "Rahasia Wulandari", "email": "wulan.rahasia@example.id", "phone": "089912345678"}


# ---- what the mail says ----------------------------------------------------------------------------


def test_receipt_is_delivered_with_recipient_subject_message_id_and_both_parts(service, clock, db_engine, smtp):
    submitted = submit(service, COMPLAINT)
    tracking_id = submitted.case.tracking_id

    assert send(db_engine, smtp, clock) == len(rows(db_engine)) == 2

    [receipt] = [row for row in rows(db_engine) if row.to_addr == REPORTER]
    [(recipients, message)] = [(r, m) for r, m in smtp.received if m["Message-ID"] == receipt.message_id]
    assert recipients == [REPORTER] and message["To"] == REPORTER
    assert message["Subject"] == f"Laporan Anda telah diterima: {tracking_id}"
    assert message["From"] == "SP4N-LAPOR! Jawa Timur <noreply@lapor.jatimprov.go.id>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "multipart/alternative" in [part.get_content_type() for part in message.walk()]
    text, html = parts(message)
    link = f"/lacak/{tracking_id}#token={submitted.access_token}"
    assert text.startswith("Yth. Bapak/Ibu Pelapor,") and link in text and "Gedung SMA rusak" not in text
    assert f"Nomor pelacakan: {tracking_id}\nKode akses: {submitted.access_token}\n" in text
    assert html.startswith("<!DOCTYPE html>") and link + '" style=' in html and "Gedung SMA rusak" not in html
    assert (receipt.status, receipt.attempts, receipt.sent_at, receipt.claimed_by) == ("sent", 1, clock.now(), None)
    [(kominfo_rcpt, notice)] = [(r, m) for r, m in smtp.received if m is not message]
    assert kominfo_rcpt == ["kominfo@demo.lapor.test"] and notice["Subject"] == f"Laporan {tracking_id} menunggu disposisi"


def test_every_mail_of_a_whole_case_names_the_tracking_id_and_has_both_parts(service, clock, db_engine, smtp):
    submitted = submit(service, COMPLAINT, TO_SELESAI)
    tracking_id = submitted.case.tracking_id

    assert send(db_engine, smtp, clock) == len(rows(db_engine))

    topics = Counter((row.topic, row.to_addr) for row in rows(db_engine))
    assert topics == {
        ("laporan_diterima", REPORTER): 1,
        ("perlu_disposisi", "kominfo@demo.lapor.test"): 1,
        ("laporan_masuk", "pendidikan@demo.lapor.test"): 1,
        ("diterima_unit", "kominfo@demo.lapor.test"): 1,
        ("jawaban_masuk", "kominfo@demo.lapor.test"): 1,
        ("jawaban_terbit", REPORTER): 1,
        ("selesai", REPORTER): 1,
    }
    assert sorted(smtp.message_ids()) == sorted(row.message_id for row in rows(db_engine))
    for _recipients, message in smtp.received:
        text, html = parts(message)
        assert tracking_id in message["Subject"], message["Subject"]
        assert text.strip() and "<p" in html and "{" not in text, message["Subject"]
    [answered] = [m for _r, m in smtp.received if m["Subject"] == f"Jawaban atas laporan Anda {tracking_id}"]
    assert "Perbaikan atap dijadwalkan minggu depan oleh Dinas Pendidikan." in parts(answered)[0]


@pytest.mark.parametrize("anonymous, confidential", [(True, True), (True, False), (False, True), (False, False)])
def test_staff_mail_never_names_the_reporter(service, clock, db_engine, smtp, anonymous, confidential):
    complaint = {**COMPLAINT, "anonymous": anonymous, "confidential": confidential, "reporter": IDENTITY}
    submit(service, complaint, TO_SELESAI)
    send(db_engine, smtp, clock)

    staff_mail = [(r, m) for r, m in smtp.received if r != [IDENTITY["email"]]]
    assert len(staff_mail) == 4
    for _recipients, message in staff_mail:
        raw = "\n".join([message["Subject"], *parts(message)])
        for value in (*IDENTITY.values(), "Rahasia", "wulan"):
            assert value not in raw


def test_html_part_escapes_what_the_reporter_wrote():
    mail = compose(
        'Laporan <b>"x"</b>', "Yth. Pelapor,", 'Judul "<script>alert(1)</script>" & lain-lain\n\nhttp://x.test/a?b=1&c=2', "http://x.test/a?b=1&c=2"
    )
    assert "<script>" not in mail.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html and "&amp; lain-lain" in mail.html
    assert '<a href="http://x.test/a?b=1&amp;c=2"' in mail.html and "<title>Laporan &lt;b&gt;" in mail.html
    assert '"<script>alert(1)</script>"' in mail.text  # the text part is text


# Anyone may have a receipt mailed to any address (the form takes whatever email it is given): what the reporter
# wrote must never be in a mail to the reporter, or the office's sender would carry an attacker's words.
WRITTEN = {"title": "Klik http://jahat.example untuk hadiah", "body": "Hubungi 0800-PENIPU sekarang juga untuk hadiah Anda yang menunggu."}


def test_no_mail_to_the_reporter_carries_what_the_reporter_wrote(service, clock, db_engine, smtp):
    submitted = submit(service, {**COMPLAINT, **WRITTEN, "location": "Jalan Penipu 1"}, TO_SELESAI)
    send(db_engine, smtp, clock)

    to_reporter = [m for r, m in smtp.received if r == [REPORTER]]
    assert len(to_reporter) == 3  # the receipt, the answer, the case closed
    for message in to_reporter:
        raw = "\n".join([message["Subject"], *parts(message)])
        assert submitted.case.tracking_id in raw
        assert not [text for text in (*WRITTEN.values(), "jahat.example", "PENIPU", "Penipu") if text in raw], message["Subject"]


@pytest.mark.parametrize("topic", [*REPORTER_TEMPLATES, "diterima_unit", "topik_baru"])
def test_every_reporter_topic_names_the_case_by_its_tracking_id_only(service, topic):
    """Each reporter template, and any topic a model sends the reporter without one (a staff topic, a new name)."""
    case = submit(service, {**COMPLAINT, **WRITTEN}).case
    mail = service.notifier.render(topic, case, f"http://lapor.test/lacak/{case.tracking_id}", "Yth. Bapak/Ibu Pelapor,", reporter=True)
    raw = "\n".join([mail.subject, mail.text, mail.html])
    assert case.tracking_id in mail.subject and case.tracking_id in mail.text
    assert WRITTEN["title"] not in raw and "jahat" not in raw and "PENIPU" not in raw and "{" not in mail.text


def test_reporter_reminder_and_returned_case_read_as_sentences(service, session, clock):
    case = submit(service, COMPLAINT).case
    notifier = service.notifier
    reminder = notifier.render("pengingat", case, "http://lapor.test/lacak/x", "Yth. Bapak/Ibu Pelapor,", reporter=True)
    assert reminder.subject == f"Pengingat: laporan {case.tracking_id} menunggu balasan Anda"
    unit = "Dinas Pendidikan Provinsi Jawa Timur"
    declined = notifier.render("perlu_disposisi", case, "http://lapor.test/kasus/x", "Yth. Admin,", unit=unit, back="bukan_wewenang")
    assert "kembali kepada Anda karena Dinas Pendidikan Provinsi Jawa Timur menyatakan laporan ini bukan wewenangnya" in declined.text
    assert "puas" not in declined.text
    unhappy = notifier.render("perlu_disposisi", case, "http://lapor.test/kasus/x", "Yth. Admin,", unit=unit, back="tidak_puas")
    assert "karena pelapor belum puas dengan jawaban dari Dinas Pendidikan Provinsi Jawa Timur" in unhappy.text
    assert "bukan wewenang" not in unhappy.text
    first = notifier.render("perlu_disposisi", case, "http://lapor.test/kasus/x", "Yth. Admin,", unit="", back="")
    assert "kembali kepada Anda" not in first.text


def test_returned_case_mails_admin_kominfo_again(service, clock, db_engine, smtp):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER, Do("Task_Terima_Satker", {"decision": "bukan_wewenang", "note": "Bukan kami."})])
    send(db_engine, smtp, clock)
    notices = [m for r, m in smtp.received if r == ["kominfo@demo.lapor.test"]]
    assert [m["Subject"] for m in notices] == [f"Laporan {submitted.case.tracking_id} menunggu disposisi"] * 2
    assert "kembali kepada Anda" not in parts(notices[0])[0]
    assert "karena Dinas Pendidikan Provinsi Jawa Timur menyatakan laporan ini bukan wewenangnya" in parts(notices[1])[0]


def test_a_case_back_from_an_unsatisfied_reporter_tells_admin_kominfo_so(service, clock, db_engine, smtp):
    unhappy = Do("Task_Balasan", {"satisfied": False, "text": "Belum ada perbaikan."})
    submit(service, COMPLAINT, [FORWARD_SATKER, ACCEPT_SATKER, ANSWER_SATKER, PUBLISH, unhappy])
    send(db_engine, smtp, clock)
    notices = [parts(m)[0] for r, m in smtp.received if r == ["kominfo@demo.lapor.test"] and "menunggu disposisi" in m["Subject"]]
    assert len(notices) == 2
    assert "karena pelapor belum puas dengan jawaban dari Dinas Pendidikan Provinsi Jawa Timur" in notices[1]
    assert "bukan wewenang" not in notices[1]


def test_message_id_is_fixed_when_the_mail_is_written(service, db_engine):
    submit(service, COMPLAINT)
    ids = [m.message_id for m in rows(db_engine)]
    assert len(set(ids)) == 2 and all(i.startswith("<") and i.endswith("@lapor.jatimprov.go.id>") for i in ids)
    with Session(db_engine) as session:
        session.execute(update(OutboxMail).values(subject=OutboxMail.subject))  # a later write keeps it
        session.commit()
    assert [m.message_id for m in rows(db_engine)] == ids


def test_mail_rows_record_the_staff_recipient_and_topic(service, session, clock):
    case = submit(service, COMPLAINT).case
    row = open_row(session, case.id, "Task_Disposisi")
    CaseService(session, clock).complete_task(row.id, {"unit": "dinas-pendidikan"}, KOMINFO)
    session.commit()
    with Session(session.bind) as fresh:
        staff_rows = list(fresh.scalars(select(OutboxMail).where(OutboxMail.user_id.is_not(None))))
        reporter_rows = list(fresh.scalars(select(OutboxMail).where(OutboxMail.user_id.is_(None))))
        assert {m.to_addr for m in reporter_rows} == {REPORTER}
        assert {m.topic for m in staff_rows} == {"perlu_disposisi", "laporan_masuk"}
        assert fresh.get(Case, case.id).status == "didisposisikan"


# ---- who is told -------------------------------------------------------------------------------------


def staff_user(session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def test_staff_of_a_role_or_a_unit_are_its_active_users(session):
    notifier = Notifier(session, "http://lapor.test/")
    assert [u.username for u in notifier.staff("kominfo")] == ["kominfo"]
    assert [u.username for u in notifier.staff("dinas-pendidikan")] == ["pendidikan"]
    staff_user(session, "pendidikan").active = False
    assert notifier.staff("dinas-pendidikan") == [] and notifier.staff("unit-tak-ada") == []


def test_the_citizens_private_link_carries_the_access_code_after_the_hash_only(session):
    assert Notifier(session, "http://lapor.test/").private_link("LPR-SYMPVKWT", "rahasia") == "http://lapor.test/lacak/LPR-SYMPVKWT#token=rahasia"
    assert with_access_code("http://x.test/lacak/LPR-1", "abc") == "http://x.test/lacak/LPR-1#token=abc"


def test_a_reporter_without_an_address_is_sent_nothing(service, session, clock):
    case = submit(service, COMPLAINT).case
    before = session.scalar(select(func.count()).select_from(OutboxMail))
    sent = Notifier(session, "http://lapor.test").to_reporter(case, None, "selesai", clock.now())
    session.flush()
    assert (sent.users, sent.mails) == (0, 0) and session.scalar(select(func.count()).select_from(OutboxMail)) == before


def test_a_staff_notice_is_a_bell_notification_and_a_mail_for_each_holder(service, session, clock):
    case = submit(service, COMPLAINT).case
    sent = Notifier(session, "http://lapor.test").to_staff(case, "dinas-pendidikan", "laporan_masuk", clock.now())
    session.flush()
    pendidikan = staff_user(session, "pendidikan")
    assert (sent.users, sent.mails) == (1, 1)
    [item] = notifications_of(session, pendidikan.id)
    assert (item.kind, item.tracking_id, item.read) == ("laporan_masuk", case.tracking_id, False) and case.tracking_id in item.message
    [mail] = session.scalars(select(OutboxMail).where(OutboxMail.user_id == pendidikan.id))
    assert (mail.to_addr, mail.subject, mail.status) == (pendidikan.email, item.message, "queued")
    assert f"http://lapor.test/kasus/{case.tracking_id}" in mail.body


def test_a_given_up_mail_is_told_to_every_active_admin_pusat(service, session, clock):
    case = submit(service, COMPLAINT).case
    pusat = staff_user(session, "pusat")
    assert mail_failed(session, case.id, "Laporan Anda telah diterima", clock.now()) == 1
    assert mail_failed(session, None, "Tanpa laporan", clock.now()) == 1
    session.flush()
    assert [(n.kind, n.tracking_id, n.message) for n in notifications_of(session, pusat.id)] == [
        ("surel_gagal", None, "Email gagal terkirim: Tanpa laporan"),
        ("surel_gagal", case.tracking_id, "Email gagal terkirim: Laporan Anda telah diterima"),
    ]  # the same instant: the later one first
    pusat.active = False
    assert mail_failed(session, case.id, "x", clock.now()) == 0


# ---- the bell: reading and marking notifications -------------------------------------------------


def test_notifications_are_listed_newest_first_and_marked_read_one_by_one_or_all(service, session, clock):
    kominfo = staff_user(session, "kominfo")
    made = []
    for _ in range(3):
        made.append(submit(service, COMPLAINT).case.tracking_id)
        clock.advance(minutes=1)
    listed = notifications_of(session, kominfo.id)
    assert [n.tracking_id for n in listed] == made[::-1] and unread_count(session, kominfo.id) == 3
    assert [n.tracking_id for n in notifications_of(session, kominfo.id, limit=2)] == made[:0:-1]
    marked = mark_read(session, kominfo.id, listed[0].id)
    assert (marked.id, marked.read, marked.tracking_id) == (listed[0].id, True, made[2])
    assert mark_read(session, kominfo.id, listed[0].id).read  # marking again changes nothing
    session.flush()
    assert unread_count(session, kominfo.id) == 2 and [n.tracking_id for n in notifications_of(session, kominfo.id, unread_only=True)] == made[1::-1]
    assert mark_all_read(session, kominfo.id) == 2 and mark_all_read(session, kominfo.id) == 0
    assert unread_count(session, kominfo.id) == 0 and all(n.read for n in notifications_of(session, kominfo.id))


def test_nobody_marks_another_users_notification_or_one_that_does_not_exist(service, session):
    submit(service, COMPLAINT)
    kominfo, pusat = staff_user(session, "kominfo"), staff_user(session, "pusat")
    [note] = notifications_of(session, kominfo.id)
    for user_id, note_id in ((pusat.id, note.id), (kominfo.id, 999_999)):
        with pytest.raises(NotFound):
            mark_read(session, user_id, note_id)
    assert mark_all_read(session, pusat.id) == 0 and unread_count(session, kominfo.id) == 1


def test_a_notification_about_no_case_has_no_tracking_id(session, clock):
    pusat = staff_user(session, "pusat")
    session.add(Notification(user_id=pusat.id, case_id=None, at=clock.now(), kind="surel_gagal", message="Email gagal terkirim: x"))
    session.flush()
    [item] = notifications_of(session, pusat.id)
    assert item.tracking_id is None and mark_read(session, pusat.id, item.id).tracking_id is None


# ---- notifications that clear themselves ------------------------------------------------------------


def unread_of(session, username: str) -> list[tuple[str | None, str]]:
    """(tracking id, topic) of the user's unread notifications, oldest first."""
    return [(n.tracking_id, n.kind) for n in reversed(notifications_of(session, staff_user(session, username).id, unread_only=True))]


def test_a_notification_asking_for_work_is_read_once_that_work_is_done_by_anyone(service, session, clock):
    submitted, other = submit(service, COMPLAINT), submit(service, COMPLAINT)
    clock.advance(days=2)  # past the disposition's SOP time: a reminder to Admin Kominfo, an escalation to Admin Pusat
    fire_due(service)
    mine, theirs = submitted.case.tracking_id, other.case.tracking_id
    assert unread_of(session, "kominfo") == [(mine, "perlu_disposisi"), (theirs, "perlu_disposisi"), (mine, "pengingat"), (theirs, "pengingat")]
    assert unread_of(session, "pusat") == [(mine, "eskalasi"), (theirs, "eskalasi")]

    do(service, submitted, FORWARD_SATKER)  # by an account of the role (tests/engine/support.py), not necessarily the reader

    assert unread_of(session, "kominfo") == [(theirs, "perlu_disposisi"), (theirs, "pengingat")]  # the other case's work is still to do
    assert unread_of(session, "pusat") == [(theirs, "eskalasi")]
    assert unread_of(session, "pendidikan") == [(mine, "laporan_masuk")]  # what the step sent next is news
    do(service, submitted, ACCEPT_SATKER)
    assert unread_of(session, "pendidikan") == []
    assert (mine, "diterima_unit") in unread_of(session, "kominfo")  # news, asking for nothing: the reader marks it


def test_a_closed_case_leaves_no_notification_asking_for_work_on_it(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    assert unread_of(session, "pendidikan") == [(submitted.case.tracking_id, "laporan_masuk")]
    service.withdraw(submitted.case.tracking_id, submitted.access_token)
    session.commit()
    assert unread_of(session, "pendidikan") == [(submitted.case.tracking_id, "dicabut")]  # the withdrawal itself is news
    assert not [kind for _tid, kind in unread_of(session, "kominfo") if kind in WORK_TOPICS]
