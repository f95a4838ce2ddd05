"""The SP4N-LAPOR! workflow library: no Flask here. docs/architecture.md describes its layers and the contract."""

from engine.cases.service import CaseService, Submitted
from engine.contract import CITIZEN, SYSTEM, Actor
from engine.errors import Conflict, DefinitionInvalid, EngineError, Forbidden, InvalidData, NotFound
from engine.runtime.scripting import make_script_engine
from engine.timekeeping.clock import FakeClock, SystemClock

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
