"""engine/accounts/partners.py: Open311 partner keys, issued once, stored as a hash, revoked for good."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import Forbidden, InvalidData, NotFound
from engine.accounts.partners import KEY_PREFIX, PREFIX_LENGTH, Partners, partner_for_key
from engine.cases.ids import hash_token
from engine.db.tables import AdminEvent, PartnerKey
from tests.engine.support import KOMINFO, PUSAT


@pytest.fixture
def partners(session, clock) -> Partners:
    return Partners(session, PUSAT, clock)


def test_only_admin_pusat_manages_partner_keys(session):
    with pytest.raises(Forbidden):
        Partners(session, KOMINFO)


def test_an_issued_key_is_handed_back_once_and_stored_only_as_its_hash(partners, session, clock):
    issued = partners.issue("  Aplikasi   Warga Surabaya ")
    session.flush()
    row = session.scalar(select(PartnerKey).where(PartnerKey.id == issued.partner.id))
    assert issued.key.startswith(KEY_PREFIX) and len(issued.key) > 40
    assert (row.name, row.created_by, row.created_at, row.revoked_at) == ("Aplikasi Warga Surabaya", "pusat", clock.now(), None)
    assert row.key_hash == hash_token(issued.key) and issued.key not in {row.key_hash, row.prefix}
    assert row.prefix == issued.key[:PREFIX_LENGTH]
    assert partner_for_key(session, issued.key).id == row.id
    event = session.scalar(select(AdminEvent).where(AdminEvent.action == "partner_key_issued"))
    assert (event.actor, event.target, event.data) == ("pusat", f"mitra {row.id}", {"name": "Aplikasi Warga Surabaya", "prefix": row.prefix})
    assert issued.key not in str(event.data)


def test_each_key_is_new(partners):
    assert partners.issue("Mitra A").key != partners.issue("Mitra A").key


def test_a_partner_needs_a_name(partners):
    for name in ("", " ", "x", "x" * 121):
        with pytest.raises(InvalidData) as bad:
            partners.issue(name)
        assert set(bad.value.errors) == {"name"}


def test_unknown_empty_or_oversized_keys_open_nothing(partners, session):
    issued = partners.issue("Mitra A")
    session.flush()
    for key in (None, "", issued.key + "x", issued.key[:-1], "x" * 5000, issued.partner.prefix):
        assert partner_for_key(session, key) is None


def test_a_revoked_key_opens_nothing_and_revoking_twice_records_once(partners, session, clock):
    kept, revoked = partners.issue("Mitra tetap"), partners.issue("Mitra dicabut")
    clock.advance(hours=1)
    partners.revoke(revoked.partner.id)
    partners.revoke(revoked.partner.id)
    session.flush()
    assert partner_for_key(session, revoked.key) is None
    assert partner_for_key(session, kept.key).name == "Mitra tetap"
    assert (revoked.partner.revoked_at, revoked.partner.revoked_by) == (clock.now(), "pusat")
    events = session.scalars(select(AdminEvent).where(AdminEvent.action == "partner_key_revoked")).all()
    assert [e.target for e in events] == [f"mitra {revoked.partner.id}"]
    with pytest.raises(NotFound):
        partners.revoke(987654)


def test_the_list_holds_every_key_newest_first(partners, session, clock):
    first = partners.issue("Mitra lama")
    clock.advance(days=1)
    second = partners.issue("Mitra baru")
    partners.revoke(first.partner.id)
    session.flush()
    assert [(p.name, p.revoked_at is not None) for p in partners.list_keys()] == [("Mitra baru", False), ("Mitra lama", True)]
    assert partners.key(second.partner.id).name == "Mitra baru"
