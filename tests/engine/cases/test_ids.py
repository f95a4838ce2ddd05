"""engine/cases/ids.py: tracking ids a citizen reads over the phone, and the access token that opens a case."""

from __future__ import annotations

import re

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
