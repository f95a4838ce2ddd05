"""engine/cases/submission_keys.py: the case a one-time key made, and the fingerprint it came with."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from engine.cases import submission_keys
from tests.engine.support import fast_password_hashing, submit  # noqa: F401 - autouse fixture
from tests.scenarios import COMPLAINT


def test_a_key_is_stored_once_with_its_case(service, session, clock):
    case = submit(service, COMPLAINT).case
    assert submission_keys.stored(session, "k" * 64) is None
    submission_keys.remember(session, "k" * 64, "f" * 64, case, clock.now())
    assert submission_keys.stored(session, "k" * 64) == ("f" * 64, case)
    with pytest.raises(IntegrityError):
        submission_keys.remember(session, "k" * 64, "g" * 64, submit(service, COMPLAINT).case, clock.now())
