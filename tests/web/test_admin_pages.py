"""Admin Pusat's pages: units, accounts, and reassigning a unit's task from the case page."""

from __future__ import annotations

from sqlalchemy import select

from engine.db.tables import AdminEvent, AuditEvent, OpenTask, Unit, User
from tests.web.pages import csrf, login, open_task, submit
from web.extensions import db


def post(client, path: str, form: dict):
    return client.post(path, data={**form, "csrf_token": csrf(client, path)})


def test_only_admin_pusat_opens_the_admin_pages(app):
    for username in ("kominfo", "auditor", "pendidikan"):
        staff = login(app, username)
        assert staff.get("/admin/unit").status_code == 403
        assert staff.get("/admin/pengguna").status_code == 403
    assert app.test_client().get("/admin/unit").status_code == 302  # to the login page
    pusat = login(app, "pusat")
    page = pusat.get("/admin/unit").get_data(as_text=True)
    assert "dinas-pendidikan" in page and "Tambah unit" in page


def test_add_and_deactivate_a_unit(app):
    pusat = login(app, "pusat")
    bad = post(pusat, "/admin/unit", {"id": "Dinas Sosial", "name": "", "kind": "satuan_kerja"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "Gunakan huruf kecil" in html and "Nama unit wajib diisi" in html and 'value="Dinas Sosial"' in html  # input kept
    assert post(pusat, "/admin/unit", {"id": "dinas-sosial", "name": "Dinas Sosial Provinsi Jawa Timur", "kind": "satuan_kerja"}).status_code == 302
    assert "Dinas Sosial Provinsi Jawa Timur" in pusat.get("/admin/unit").get_data(as_text=True)

    kominfo = login(app, "kominfo")
    _citizen, tracking_id, _link = submit(app)
    task_page = f"/tugas/{open_task(app, tracking_id).id}"
    assert "Dinas Sosial Provinsi Jawa Timur" in kominfo.get(task_page).get_data(as_text=True)
    assert post(pusat, "/admin/unit/dinas-sosial", {"name": "Dinas Sosial Provinsi Jawa Timur", "kind": "satuan_kerja"}).status_code == 302
    assert "Dinas Sosial Provinsi Jawa Timur" not in kominfo.get(task_page).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Unit, "dinas-sosial").active is False


def test_create_an_account_that_can_sign_in_and_deactivate_it(app):
    pusat = login(app, "pusat")
    form = {"username": "guru", "full_name": "Guru Satu", "email": "guru@dinas.go.id", "role": "satker", "unit_id": "", "password": "pendek"}
    bad = post(pusat, "/admin/pengguna", form)
    assert bad.status_code == 400 and "Kata sandi minimal 10 karakter" in bad.get_data(as_text=True)
    form.update(unit_id="dinas-pendidikan", password="kata-sandi-guru")
    assert post(pusat, "/admin/pengguna", form).status_code == 302

    guru = app.test_client()
    signed_in = guru.post("/masuk", data={"username": "guru", "password": "kata-sandi-guru", "csrf_token": csrf(guru, "/masuk")})
    assert signed_in.status_code == 302 and guru.get("/tugas").status_code == 200

    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "guru"))
    edit = {"full_name": "Guru Satu", "email": "guru@dinas.go.id", "role": "satker", "unit_id": "dinas-pendidikan", "password": ""}
    assert post(pusat, f"/admin/pengguna/{user_id}", edit).status_code == 302  # no "active": the checkbox is off
    assert guru.get("/tugas").status_code == 302  # the deactivated account's session is over


def test_the_account_form_refuses_an_address_mail_cannot_go_to(app):
    pusat = login(app, "pusat")
    for email in ("0@0.com*", "a@b.c<script>"):
        form = {"username": "guru", "full_name": "Guru Satu", "email": email, "role": "auditor", "unit_id": "", "password": "kata-sandi-guru"}
        bad = post(pusat, "/admin/pengguna", form)
        assert bad.status_code == 400 and "Alamat email belum benar." in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.username == "guru")) is None


def test_a_password_reset_ends_the_accounts_api_tokens(app, api):
    token = api.token("kesehatan")
    assert api.client.get("/api/v1/tasks", headers={"Authorization": f"bearer {token}"}).status_code == 200  # scheme is case-insensitive
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "kesehatan"))
    pusat = login(app, "pusat")
    edit = {
        "full_name": "Petugas",
        "email": "k@x.go.id",
        "role": "satker",
        "unit_id": "dinas-kesehatan",
        "password": "sandi-baru-123",
        "active": "true",
    }
    assert post(pusat, f"/admin/pengguna/{user_id}", edit).status_code == 302
    assert api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "user_updated" in pusat.get("/admin/pengguna").get_data(as_text=True)


def _sign_in(app, username: str, password: str, address: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/masuk", data={"username": username, "password": password, "csrf_token": csrf(client, "/masuk")})


def test_admin_pusat_unlocks_a_locked_account_and_only_pusat_may(app, clock):
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "kesehatan"))
    pusat = login(app, "pusat")
    page = f"/admin/pengguna/{user_id}"
    assert "Buka kunci" not in pusat.get(page).get_data(as_text=True)  # nothing to unlock: no button
    for address in ("10.1.1.1", "10.2.2.2"):
        for _ in range(5):
            assert _sign_in(app, "kesehatan", "salah", address).status_code == 401
    assert _sign_in(app, "kesehatan", "demo-lapor", "10.1.1.1").status_code == 401
    html = pusat.get(page).get_data(as_text=True)
    assert "Buka kunci" in html and "10.1.1.1" in html and "10.2.2.2" in html

    unlock = f"{page}/buka-kunci"
    for username in ("kominfo", "auditor", "pendidikan", "kesehatan"):
        staff = login(app, username)
        assert staff.post(unlock, data={"csrf_token": csrf(staff, "/tugas")}).status_code == 403, username
    assert app.test_client().post(unlock).status_code in (302, 400)  # no session: to the sign-in page (or no CSRF token)
    assert _sign_in(app, "kesehatan", "demo-lapor", "10.2.2.2").status_code == 401  # still locked

    response = pusat.post(unlock, data={"csrf_token": csrf(pusat, page)})
    assert response.status_code == 302 and response.headers["Location"] == page
    html = pusat.get(page).get_data(as_text=True)
    assert "Kunci masuk akun kesehatan dibuka." in html and "Buka kunci" not in html
    assert _sign_in(app, "kesehatan", "demo-lapor", "10.1.1.1").status_code == 302
    assert _sign_in(app, "kesehatan", "demo-lapor", "10.2.2.2").status_code == 302
    with app.app_context():
        event = db.session.scalar(select(AdminEvent).where(AdminEvent.action == "user_unlocked"))
        assert (event.actor, event.target, sorted(event.data["addresses"])) == ("pusat", "kesehatan", ["10.1.1.1", "10.2.2.2"])
    assert "user_unlocked" in pusat.get("/admin/pengguna").get_data(as_text=True)
    assert pusat.post("/admin/pengguna/999999/buka-kunci", data={"csrf_token": csrf(pusat, page)}).status_code == 404


def test_a_password_reset_lifts_the_sign_in_lock(app):
    for _ in range(5):
        assert _sign_in(app, "kesehatan", "salah").status_code == 401
    assert _sign_in(app, "kesehatan", "demo-lapor").status_code == 401
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "kesehatan"))
    pusat = login(app, "pusat")
    edit = {"full_name": "Petugas", "email": "k@x.go.id", "role": "satker", "unit_id": "dinas-kesehatan", "active": "true"}
    assert post(pusat, f"/admin/pengguna/{user_id}", {**edit, "password": ""}).status_code == 302
    assert _sign_in(app, "kesehatan", "demo-lapor").status_code == 401  # another change leaves the lock
    assert post(pusat, f"/admin/pengguna/{user_id}", {**edit, "password": "sandi-baru-123"}).status_code == 302
    assert _sign_in(app, "kesehatan", "sandi-baru-123").status_code == 302


def test_admin_pusat_reassigns_a_unit_task_from_the_case_page(app):
    _citizen, tracking_id, _link = submit(app)
    kominfo = login(app, "kominfo")
    disposisi = f"/tugas/{open_task(app, tracking_id).id}"
    assert post(kominfo, disposisi, {"unit": "dinas-pendidikan"}).status_code == 302
    task = open_task(app, tracking_id)

    pusat = login(app, "pusat")
    case_page = pusat.get(f"/kasus/{tracking_id}").get_data(as_text=True)
    assert "Alihkan" in case_page and 'value="kanwil-bpn-jatim"' not in case_page  # only units of the same kind are offered
    path = f"/kasus/{tracking_id}/tugas/{task.id}/alihkan"
    assert post(pusat, f"/kasus/{tracking_id}", {}).status_code == 405
    response = pusat.post(path, data={"unit": "dinas-kesehatan", "reason": "", "csrf_token": csrf(pusat, f"/kasus/{tracking_id}")})
    assert response.status_code == 302 and "alasan" in pusat.get(f"/kasus/{tracking_id}").get_data(as_text=True).lower()
    response = pusat.post(path, data={"unit": "dinas-kesehatan", "reason": "Urusan puskesmas", "csrf_token": csrf(pusat, f"/kasus/{tracking_id}")})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(OpenTask, task.id).unit_id == "dinas-kesehatan"
        assert db.session.scalar(select(AuditEvent.actor).where(AuditEvent.type == "task_reassigned")) == "pusat"
    assert login(app, "pendidikan").get(f"/tugas/{task.id}").status_code == 404
    assert login(app, "kesehatan").get(f"/tugas/{task.id}").status_code == 200
    assert "Urusan puskesmas" in pusat.get(f"/kasus/{tracking_id}").get_data(as_text=True)

    kominfo_post = kominfo.post(path, data={"unit": "dinas-pendidikan", "reason": "x", "csrf_token": csrf(kominfo, "/tugas")})
    assert kominfo_post.status_code == 403
