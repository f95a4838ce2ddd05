"""The repository explains itself: no file points a reader to a document outside the checkout.

The architecture and the contract are in docs/architecture.md; a newcomer who clones the repository must be able
to follow every pointer in its code, comments, templates, tests and docs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Spelled in pieces so that this file does not name what it forbids.
OUTSIDE_POINTERS = ("DESIGN" + ".md", "../" + "shared/", "/work/" + "shared")


def _repository_files() -> list[Path]:
    """Every file git tracks, plus new ones it does not ignore (a file added but not yet committed counts too).
    Skips the test outside a git checkout (an installed package has no history to scan)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [path for name in sorted(set(listed.split("\0"))) if name and (path := ROOT / name).is_file()]


def test_no_file_points_outside_the_repository() -> None:
    offenders = []
    for path in _repository_files():
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            offenders += [f"{path.relative_to(ROOT)}:{number}: {pointer}" for pointer in OUTSIDE_POINTERS if pointer in line]
    assert not offenders, "point to docs/architecture.md (or the README) instead:\n" + "\n".join(offenders)


def test_architecture_document_names_every_top_level_folder() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    folders = {path.parts[0] for path in (p.relative_to(ROOT) for p in _repository_files()) if len(path.parts) > 1}
    missing = sorted(folder for folder in folders if f"{folder}/" not in text)
    assert not missing, f"docs/architecture.md has no line for {missing}"


# Where a module's tests live when they are not beside its mirror: the sandbox is tried by the security suite's escapes.
TESTED_ELSEWHERE = {
    "engine/runtime/sandbox.py": "tests/security/test_sandbox.py",
    "engine/cases/public.py": "tests/web/test_public_case_page.py",  # what the public page shows, read through the page
}


def test_every_engine_module_has_its_test_module_in_the_mirrored_tree() -> None:
    """engine/<package>/<module>.py is tested in tests/engine/<package>/test_<module>.py: a newcomer finds both by name."""
    missing = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        module = path.relative_to(ROOT)
        if path.name == "__init__.py" or "migrations" in module.parts:
            continue
        mirror = Path("tests", *module.parts[:-1], f"test_{path.name}")
        expected = TESTED_ELSEWHERE.get(module.as_posix(), mirror.as_posix())
        if not (ROOT / expected).is_file():
            missing.append(f"{module} -> {expected}")
    assert not missing, "engine modules without their test module:\n" + "\n".join(missing)
