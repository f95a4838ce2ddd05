"""A definition bundle: the BPMN, its DMN files and the forms it names, as one self-contained set of files.

A bundle is self-contained (every file it needs, by name), so a deployed version runs the same forever; its content
hash names the version. Read from disk here (the project's own model, or a folder beside it); uploads are assembled
in engine/definitions/uploads.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from engine.contract import FORM_PROPERTY
from engine.definitions.bpmn_xml import SPIFF_URI
from engine.definitions.safe_xml import parse_xml


def project_file(folder: str, name: str) -> Path:
    """Return a file of the project's own processes/ or forms/, wherever the package is installed."""
    return Path(str(resources.files(folder).joinpath(name)))


@dataclass(frozen=True)
class Bundle:
    """The files of one definition version: name -> text. Forms are stored under ``forms/``."""

    bpmn_name: str
    files: dict[str, str]

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return digest.hexdigest()

    def forms(self) -> dict[str, dict[str, Any]]:
        return {n[len("forms/") : -len(".schema.json")]: json.loads(t) for n, t in self.files.items() if n.startswith("forms/")}

    def to_json(self) -> str:
        return json.dumps({"bpmn": self.bpmn_name, "files": self.files}, ensure_ascii=False, sort_keys=True)

    @staticmethod
    def from_json(text: str) -> Bundle:
        data = json.loads(text)
        return Bundle(data["bpmn"], data["files"])


def read_bundle(bpmn_path: Path, forms_dir: Path | None = None) -> Bundle:
    """Read a BPMN file, every .dmn beside it, and the forms it references.

    Forms come from ``forms_dir``, else the ``forms/`` folder beside the file's folder (the
    repository layout), else the project's own forms. A missing form is left out; validation names it.
    """
    files = {bpmn_path.name: bpmn_path.read_text(encoding="utf-8")}
    for dmn in sorted(bpmn_path.parent.glob("*.dmn")):
        files[dmn.name] = dmn.read_text(encoding="utf-8")
    candidates = [forms_dir] if forms_dir else [bpmn_path.resolve().parent.parent / "forms", project_file("forms", "")]
    for form_file in referenced_forms(files[bpmn_path.name]):
        for folder in candidates:
            path = Path(folder) / form_file
            if path.is_file():
                files["forms/" + form_file] = path.read_text(encoding="utf-8")
                break
    return Bundle(bpmn_path.name, files)


def project_bundle() -> Bundle:
    return read_bundle(project_file("processes", "sp4n_lapor.bpmn"), project_file("forms", ""))


def referenced_forms(bpmn_text: str) -> list[str]:
    """The form files (``<name>.schema.json``) the model's elements name; [] for a file that cannot be read safely."""
    root, _problem = parse_xml("", bpmn_text)
    if root is None:
        return []
    values = root.xpath("//spiffworkflow:property[@name=$n]/@value", n=FORM_PROPERTY, namespaces={"spiffworkflow": SPIFF_URI})
    return sorted({v for v in values if safe_form_file(v)})


def safe_form_file(value: str) -> bool:
    """A form file name as the model may write it: no folders, no way out of forms/."""
    return bool(re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\.schema\.json", value)) and ".." not in value
