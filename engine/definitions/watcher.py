"""The development server's watch on processes/ and forms/: an edited BPMN, DMN or form file is deployed again after
validation (``lapor serve`` only; the versions page shows the last refusal).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from engine.cases.service import CaseService
from engine.definitions.bundle import read_bundle
from engine.definitions.findings import Finding
from engine.errors import DefinitionInvalid
from engine.timekeeping import clock as clocks

log = logging.getLogger("lapor.versions")  # the name web/cli.py logs a failed check under too


@dataclass(frozen=True)
class WatchOutcome:
    at: datetime
    number: int | None  # the version now deployed for the files (None when they were refused)
    created: bool
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings


class ProcessWatcher:
    """Notices an edited BPMN, DMN or form file and deploys the bundle again after validation (development only).

    ``check`` is called by the dev server's worker tick; ``last_failure`` is what the versions page shows.
    """

    def __init__(self, bpmn_path: Path, forms_dir: Path | None = None, by: str = "lapor serve") -> None:
        self.bpmn_path = Path(bpmn_path)
        self.forms_dir = Path(forms_dir) if forms_dir else None
        self.by = by
        self._seen: dict[str, int] | None = None
        self.last: WatchOutcome | None = None
        self.last_failure: WatchOutcome | None = None

    def _stamps(self) -> dict[str, int]:
        folders: list[tuple[Path, Sequence[str]]] = [(self.bpmn_path.parent, ("*.bpmn", "*.dmn"))]
        if self.forms_dir is not None:
            folders.append((self.forms_dir, ("*.schema.json",)))
        stamps = {}
        for folder, patterns in folders:
            for pattern in patterns:
                for path in folder.glob(pattern):
                    stat = path.stat()
                    stamps[str(path)] = stat.st_mtime_ns ^ stat.st_size
        return stamps

    def check(self, session: Session, clock: clocks.Clock) -> WatchOutcome | None:
        """Deploy the files if they changed since the last look (the first look deploys them unless already deployed).

        Returns None when nothing changed; the caller commits.
        """
        stamps = self._stamps()
        if stamps == self._seen:
            return None
        self._seen = stamps
        try:
            definition, created = CaseService(session, clock).deploy(
                read_bundle(self.bpmn_path, self.forms_dir), by=self.by, note=f"{self.bpmn_path.parent.name}/ berubah (otomatis, lapor serve)"
            )
        except DefinitionInvalid as err:
            outcome = WatchOutcome(clock.now(), None, False, tuple(err.findings))
            self.last = self.last_failure = outcome
            log.warning("processes/ berubah tetapi tidak dipasang:\n%s", "\n".join(str(f) for f in err.findings))
            return outcome
        except OSError as err:  # a file removed or half-written between the listing and the read
            finding = Finding(self.bpmn_path.name, None, None, str(err), "file")
            outcome = WatchOutcome(clock.now(), None, False, (finding,))
            self.last = self.last_failure = outcome
            return outcome
        outcome = WatchOutcome(clock.now(), definition.number, created)
        self.last, self.last_failure = outcome, None
        if created:
            log.info("processes/ berubah: versi %s dipasang (%s)", definition.number, definition.content_hash[:12])
        return outcome
