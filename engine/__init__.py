"""The SP4N-LAPOR! workflow library: no Flask here. See DESIGN.md for the contract."""

from .cases import CITIZEN, SYSTEM, Actor, CaseService, Submitted
from .clock import FakeClock, SystemClock
from .errors import Conflict, DefinitionInvalid, EngineError, Forbidden, InvalidData, NotFound
from .scripting import make_script_engine

__all__ = [
    "CITIZEN",
    "SYSTEM",
    "Actor",
    "CaseService",
    "Conflict",
    "DefinitionInvalid",
    "EngineError",
    "FakeClock",
    "Forbidden",
    "InvalidData",
    "NotFound",
    "Submitted",
    "SystemClock",
    "make_script_engine",
]
