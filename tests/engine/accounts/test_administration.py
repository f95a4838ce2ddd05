"""engine/accounts/administration.py (units and accounts) and CaseService.reassign (Admin Pusat moves a unit task)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import Conflict, Forbidden, InvalidData, NotFound
from engine.accounts.administration import Administration
from engine.accounts.users import MAX_FAILED_LOGINS, check_login, verify_password
from engine.db.tables import AdminEvent, AuditEvent, Notification, User
from tests.engine.support import (
    KESEHATAN,
    KOMINFO,
    PENDIDIKAN,
    PUSAT,
    audit_types,
    do,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_row,
    submit,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER


@pytest.fixture
def admin(session, clock) -> Administration:
    return Administration(session, PUSAT, clock)


def test_only_admin_pusat_administers(session):
    with pytest.raises(Forbidden):
        Administration(session, KOMINFO)


def test_create_unit_checks_each_field_and_records_who(admin, session):
    with pytest.raises(InvalidData) as bad:
        admin.create_unit("Dinas Sosial!", "", "kecamatan")
    assert set(bad.value.errors) == {"id", "name", "kind"}
    with pytest.raises(InvalidData) as taken:
        admin.create_unit("dinas-pendidikan", "Dinas Pendidikan", "satuan_kerja")
    assert "id" in taken.value.errors

    admin.create_unit("dinas-sosial", "Dinas Sosial Provinsi Jawa Timur", "satuan_kerja")
    session.flush()
    summary = {s.unit.id: s for s in admin.units()}
    assert summary["dinas-sosial"].users == 0 and summary["dinas-pendidikan"].users == 1
    event = session.scalar(select(AdminEvent).where(AdminEvent.target == "dinas-sosial"))
    assert (event.action, event.actor, event.data["kind"]) == ("unit_created", "pusat", "satuan_kerja")


def test_a_deactivated_unit_is_no_longer_offered_for_disposition(admin, service, session):
    admin.update_unit("dinas-kesehatan", "Dinas Kesehatan Provinsi Jawa Timur", "satuan_kerja", active=False)
    session.flush()
    assert "dinas-kesehatan" not in service.units()
    assert "dinas-kesehatan" not in service.served_form(service.parsed_for(service.current_definition()), "disposisi")["properties"]["unit"]["enum"]


def test_unit_kind_is_fixed_while_it_has_staff(admin):
    with pytest.raises(InvalidData) as bad:
        admin.update_unit("dinas-pendidikan", "Dinas Pendidikan", "instansi_vertikal", active=True)
    assert "kind" in bad.value.errors


def test_create_user_validates_role_and_unit(admin, session):
    with pytest.raises(InvalidData) as bad:
        admin.create_user("X y", "", "bukan-email", "satker", "kanwil-bpn-jatim", "pendek")
    assert set(bad.value.errors) == {"username", "full_name", "email", "unit_id", "password"}

    user = admin.create_user("guru.satu", "Guru Satu", "guru@dinas.go.id", "satker", "dinas-pendidikan", "kata-sandi-panjang")
    session.flush()
    assert (user.role, user.unit_id, user.active) == ("satker", "dinas-pendidikan", True)
    assert verify_password(user.password_hash, "kata-sandi-panjang")
    staff = admin.create_user("auditor2", "Auditor Dua", "a2@x.go.id", "auditor", "dinas-pendidikan", "kata-sandi-panjang")
    assert staff.unit_id is None  # a unit only belongs to unit roles


@pytest.mark.parametrize("email", ["0@0.com*", "a@b.c<script>", "siti@warga.test", "a" * 250 + "@x.go.id"])
def test_accounts_follow_the_one_email_rule_of_every_form(admin, session, email):
    with pytest.raises(InvalidData) as bad:
        admin.create_user("guru.dua", "Guru Dua", email, "auditor", None, "kata-sandi-panjang")
    assert set(bad.value.errors) == {"email"}
    user = session.scalar(select(User).where(User.username == "kesehatan"))
    with pytest.raises(InvalidData) as bad:
        admin.update_user(user.id, user.full_name, email, "satker", "dinas-kesehatan", active=True)
    assert set(bad.value.errors) == {"email"}
    assert user.email.endswith("@demo.lapor.test")  # the address an account already has stays editable as it is
    admin.update_user(user.id, "Petugas Kesehatan", user.email, "satker", "dinas-kesehatan", active=True)


def test_update_user_ends_sessions_when_rights_change(admin, session):
    user = session.scalar(select(User).where(User.username == "kesehatan"))
    epoch = user.session_epoch
    admin.update_user(user.id, user.full_name, "baru@dinkes.go.id", "satker", "dinas-kesehatan", active=True)
    assert user.session_epoch == epoch  # an email change alone keeps the session
    admin.update_user(user.id, user.full_name, user.email, "satker", "dinas-kesehatan", active=False)
    assert user.session_epoch == epoch + 1 and not user.active
    admin.update_user(user.id, user.full_name, user.email, "satker", "dinas-kesehatan", active=True, new_password="sandi-baru-12345")
    assert user.session_epoch == epoch + 2 and verify_password(user.password_hash, "sandi-baru-12345")
    session.flush()
    actions = [e.data.get("password_reset") for e in admin.recent_events() if e.target == "kesehatan"]
    assert actions == [True, False, False]


def test_admin_cannot_lock_themselves_out(admin, session):
    me = session.scalar(select(User).where(User.username == "pusat"))
    with pytest.raises(InvalidData) as bad:
        admin.update_user(me.id, me.full_name, me.email, "pusat", None, active=False)
    assert "active" in bad.value.errors
    with pytest.raises(NotFound):
        admin.update_user(99999, "Siapa", "s@x.go.id", "pusat", None, active=True)


def _lock(session, clock, username: str, address: str) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        check_login(session, username, "salah", address, clock.now())
    assert check_login(session, username, "demo-lapor", address, clock.now()).reason == "locked"


def test_unlock_lifts_every_lock_on_the_account_and_records_it(admin, session, clock):
    user = session.scalar(select(User).where(User.username == "kesehatan"))
    assert admin.sign_in_locks(user.id) == [] and admin.unlock_user(user.id) == []
    _lock(session, clock, "kesehatan", "10.0.0.1")
    _lock(session, clock, " Kesehatan ", "2001:db8:0::1")  # the same username as the sign-in compares it, in IPv6's short form
    _lock(session, clock, "kominfo", "10.0.0.1")
    assert [lock.address for lock in admin.sign_in_locks(user.id)] == ["10.0.0.1", "2001:db8::1"]
    assert sorted(admin.unlock_user(user.id)) == ["10.0.0.1", "2001:db8::1"]
    assert check_login(session, "kesehatan", "demo-lapor", "10.0.0.1", clock.now()).user == user
    assert check_login(session, "kominfo", "demo-lapor", "10.0.0.1", clock.now()).reason == "locked"  # another account's lock stays
    session.flush()
    [event] = [e for e in admin.recent_events() if e.action == "user_unlocked"]
    assert (event.actor, event.target, sorted(event.data["addresses"])) == ("pusat", "kesehatan", ["10.0.0.1", "2001:db8::1"])
    assert admin.unlock_user(user.id) == [] and len([e for e in admin.recent_events() if e.action == "user_unlocked"]) == 1
    with pytest.raises(NotFound):
        admin.unlock_user(99999)


def test_a_new_password_lifts_the_sign_in_locks_and_no_other_change_does(admin, session, clock):
    user = session.scalar(select(User).where(User.username == "kesehatan"))
    _lock(session, clock, "kesehatan", "10.0.0.1")
    admin.update_user(user.id, user.full_name, "baru@dinkes.go.id", "satker", "dinas-kesehatan", active=True)
    assert len(admin.sign_in_locks(user.id)) == 1
    admin.update_user(user.id, user.full_name, user.email, "satker", "dinas-kesehatan", active=True, new_password="sandi-baru-12345")
    assert admin.sign_in_locks(user.id) == []
    assert check_login(session, "kesehatan", "sandi-baru-12345", "10.0.0.1", clock.now()).user == user


# ---- reassigning a unit task ------------------------------------------------------------------


def test_reassign_moves_the_task_and_the_rest_of_the_case(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    service.reassign(row.id, "dinas-kesehatan", PUSAT, reason="Salah disposisi: urusan puskesmas.")
    session.commit()

    assert session.get(type(row), row.id).unit_id == "dinas-kesehatan"
    assert submitted.case.unit_id == "dinas-kesehatan"
    event = session.scalar(select(AuditEvent).where(AuditEvent.type == "task_reassigned"))
    assert event.actor == "pusat" and '"from":"dinas-pendidikan"' in event.data and "puskesmas" in event.data
    kesehatan = session.scalar(select(User).where(User.username == "kesehatan"))
    assert session.scalar(select(Notification).where(Notification.user_id == kesehatan.id, Notification.case_id == submitted.case.id))

    with pytest.raises(NotFound):  # the old unit no longer holds it
        service.complete_task(row.id, ACCEPT_SATKER.data, PENDIDIKAN)
    service.complete_task(row.id, ACCEPT_SATKER.data, KESEHATAN)
    session.commit()
    answer = open_row(session, submitted.case.id, "Task_Tanggapan_Satker")
    assert answer.unit_id == "dinas-kesehatan"  # later steps follow the new unit
    assert "task_reassigned" in audit_types(session, submitted.case.id)


@pytest.mark.parametrize(
    ("unit", "who", "error"),
    [
        ("kanwil-bpn-jatim", PUSAT, InvalidData),  # another lane's kind
        ("dinas-pendidikan", PUSAT, InvalidData),  # where it already is
        ("tidak-ada", PUSAT, InvalidData),
        ("dinas-kesehatan", KOMINFO, Forbidden),
    ],
)
def test_reassign_refuses(service, session, unit, who, error):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    with pytest.raises(error):
        service.reassign(row.id, unit, who)


def test_reassign_refuses_liaison_tasks(service, session):
    submitted = submit(service, COMPLAINT)
    row = open_row(session, submitted.case.id, "Task_Disposisi")
    with pytest.raises(InvalidData):
        service.reassign(row.id, "dinas-kesehatan", PUSAT)


# ---- a completed task does not reveal itself to outsiders -----------------------------------


def test_completed_task_is_409_to_its_unit_and_404_to_others(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row_id = open_row(session, submitted.case.id, "Task_Terima_Satker").id
    do(service, submitted, ACCEPT_SATKER)
    with pytest.raises(Conflict):
        service.complete_task(row_id, ANSWER_SATKER.data, PENDIDIKAN)
    with pytest.raises(NotFound):
        service.complete_task(row_id, ANSWER_SATKER.data, KESEHATAN)
    with pytest.raises(NotFound):
        service.complete_task(row_id, ANSWER_SATKER.data, KOMINFO)


def test_reassign_needs_a_reason(service, session):
    submitted = submit(service, COMPLAINT, [FORWARD_SATKER])
    row = open_row(session, submitted.case.id, "Task_Terima_Satker")
    with pytest.raises(InvalidData) as bad:
        service.reassign(row.id, "dinas-kesehatan", PUSAT, reason="  ")
    assert set(bad.value.errors) == {"reason"}
