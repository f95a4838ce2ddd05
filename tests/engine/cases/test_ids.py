"""engine/cases/ids.py: tracking ids a citizen reads over the phone, the access token that opens a case, and the
link codes of the later mails."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from engine.cases import ids

TRACKING_ID = re.compile(r"LPR-[0-9A-HJKMNP-TV-Z]{8}")


def test_tracking_ids_are_crockford_base32_and_never_sequential():
    made = [ids.new_tracking_id() for _ in range(200)]
    assert all(TRACKING_ID.fullmatch(t) for t in made), made
    assert len(set(made)) == len(made)
    assert sorted(made) != made  # random, not counted up


@pytest.mark.parametrize(
    "typed",
    ["LPR-SYMPVKWT", "lpr-sympvkwt", "  LPR SYMP VKWT ", "lprsympvkwt", "SYMPVKWT", "sympvkwt"],
)
def test_a_tracking_id_is_read_the_way_people_type_it(typed):
    assert ids.normalize_tracking_id(typed) == "LPR-SYMPVKWT"


def test_the_look_alikes_o_i_l_are_read_as_zero_and_one():
    assert ids.normalize_tracking_id("lpr-oil0o1l1") == "LPR-01100111"


@pytest.mark.parametrize("typed", ["LPR-SYMPVKWT", "lpr sympvkwt", "lpr-symp vkwt", "LPRSYMPVKWT", "lpr-oooo1111"])
def test_a_whole_tracking_id_is_recognised_however_it_is_typed(typed):
    assert ids.looks_like_tracking_id(typed)


@pytest.mark.parametrize(
    "typed",
    ["", "SYMPVKWT", "LPR-SYM", "LPR-SYMPVKWTX", "LPR-SYMPVKWU", "Atap puskesmas bocor", "lapor"],
)
def test_titles_short_ids_and_letters_outside_the_alphabet_are_not_tracking_ids(typed):
    assert not ids.looks_like_tracking_id(typed)


def test_access_tokens_are_192_bit_url_safe_and_distinct():
    tokens = {ids.new_access_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) == 32 and re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in tokens)  # 24 bytes in url-safe base64


def test_a_token_matches_its_stored_hash_only():
    token, other = ids.new_access_token(), ids.new_access_token()
    stored = ids.hash_token(token)
    assert stored != token and re.fullmatch(r"[0-9a-f]{64}", stored)
    assert ids.token_matches(token, stored)
    assert not ids.token_matches(other, stored)
    assert not ids.token_matches("", stored)


# ---- link codes: what the mails after the receipt carry ----------------------------------------

STORED = ids.hash_token("the-access-token")
UNTIL = datetime(2027, 1, 29, 9, 0, tzinfo=UTC)


def test_a_link_code_reads_back_its_expiry_for_its_case_only():
    code = ids.link_code("LPR-SYMPVKWT", STORED, UNTIL)
    assert re.fullmatch(r"[A-Za-z0-9_-]{40}", code)  # the alphabet the private link's fragment carries (web/static/track.js)
    assert ids.link_expiry(code, "LPR-SYMPVKWT", STORED) == UNTIL
    assert ids.link_expiry(code, "LPR-SYMPVKWX", STORED) is None  # another case's tracking id
    assert ids.link_expiry(code, "LPR-SYMPVKWT", ids.hash_token("another-token")) is None  # another case's key


def test_a_tampered_link_code_reads_as_none():
    code = ids.link_code("LPR-SYMPVKWT", STORED, UNTIL)
    later = f"{int(UNTIL.timestamp()) + 86400:08x}" + code[8:]  # the expiry pushed a day on, the MAC kept
    flipped = code[:-1] + ("A" if code[-1] != "A" else "B")
    for tampered in (later, flipped, code[:-1], "", "zz", code[8:]):
        assert ids.link_expiry(tampered, "LPR-SYMPVKWT", STORED) is None, tampered


def test_a_fresh_link_code_lasts_link_days():
    now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    code = ids.fresh_link_code("LPR-SYMPVKWT", STORED, now)
    assert ids.link_expiry(code, "LPR-SYMPVKWT", STORED) == now + timedelta(days=ids.LINK_DAYS)
