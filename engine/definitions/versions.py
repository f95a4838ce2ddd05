"""Deployed versions of the definition: each with its running and finished cases, one by number, the one before.

(Where cases spend time on a version is engine/reports/heatmap.py's, as on /rekap; what changed between two
versions is diff.py's; moving running cases between versions is migration.py's.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.contract import FINISHED_STATUSES
from engine.db.tables import Case, Definition
from engine.definitions import cache
from engine.definitions.parsing import Parsed
from engine.errors import NotFound
from engine.messages import N_

MSG_NO_VERSION = N_("Versi %(number)s tidak ada.")


@dataclass(frozen=True)
class VersionSummary:
    definition: Definition
    running: int
    finished: int
    current: bool


def summaries(session: Session) -> list[VersionSummary]:
    """Every deployed version, newest first, with its running and finished cases (cases count where they run now)."""
    counts: dict[int, list[int]] = {}
    rows = session.execute(select(Case.definition_id, Case.status, func.count()).group_by(Case.definition_id, Case.status))
    for definition_id, status, count in rows:
        pair = counts.setdefault(definition_id, [0, 0])
        pair[1 if status in FINISHED_STATUSES else 0] += count
    definitions = list(session.scalars(select(Definition).order_by(Definition.number.desc())))
    return [VersionSummary(d, counts.get(d.id, [0, 0])[0], counts.get(d.id, [0, 0])[1], current=i == 0) for i, d in enumerate(definitions)]


def version(session: Session, number: int) -> Definition:
    """Raises NotFound."""
    definition = session.scalar(select(Definition).where(Definition.number == number))
    if definition is None:
        raise NotFound(MSG_NO_VERSION, number=number)
    return definition


def previous(session: Session, definition: Definition) -> Definition | None:
    query = select(Definition).where(Definition.number < definition.number).order_by(Definition.number.desc()).limit(1)
    return session.scalar(query)


def parsed_version(session: Session, definition_id: int, content_hash: str) -> Parsed:
    """The parsed model of a stored version, known by its id and content hash: from the per-process cache, the version's
    large bundle read only on a miss. Raises DefinitionInvalid (engine/definitions/cache.py)."""
    hit = cache.cached(content_hash)
    if hit is not None:
        return hit
    definition = session.get(Definition, definition_id)
    assert definition is not None  # the caller read its id and hash from the database
    return cache.parsed(definition.bundle, definition.content_hash)
