"""The SP4N-LAPOR! workflow library: no Flask here. docs/architecture.md describes its layers and the contract."""

from .cases import CaseService, Submitted
from .clock import FakeClock, SystemClock
from .contract import CITIZEN, SYSTEM, Actor
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
