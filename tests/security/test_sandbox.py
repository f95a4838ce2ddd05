"""The sandbox every expression of a process model runs in (engine/runtime/sandbox.py).

Each escape attempt is refused twice: by ``validate`` (``lapor validate``, ``lapor deploy``, the upload on /proses)
with a finding that names what is forbidden, and, injected straight into the process_definition table past every
check of ours, at run time on each path that runs a model: the submission, the worker's pass, the auditor's
replay page and ``lapor replay``. Harmless means: the sandbox raised out of the attempt on that path (the step
failed: an incident where the path keeps one), the marker file the attempt writes is not there, and the secret it
reads is nowhere in the database or the output.
"""

from __future__ import annotations

import json
import re
import tracemalloc
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from click.testing import CliRunner
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine import CaseService, DefinitionInvalid, make_script_engine
from engine.db.tables import AuditEvent, Case, Definition, Incident
from engine.definitions import cache, parsing, validation
from engine.definitions.bundle import Bundle, project_bundle
from engine.definitions.safe_xml import parse_xml
from engine.definitions.validation import validate
from engine.runtime import sandbox, scripting
from engine.runtime.sandbox import MAX_ITERATIONS, SandboxEnvironment, SandboxError, compiled
from engine.runtime.serialization import state_json, state_serializer
from engine.worker import run_once
from tests.engine.support import fast_password_hashing  # noqa: F401 - autouse fixture
from tests.scenarios import COMPLAINT
from tests.web.pages import login
from web.cli import main

SECRET = "kunci-rahasia-7f3c9a"  # what an attempt tries to read: instance/secret_key stands in as SECRET_FILE
BASE = project_bundle()
BPMN = BASE.files[BASE.bpmn_name]
DMN = BASE.files["kategori.dmn"]
REKAM = "<bpmn:script>rekam_pengaduan()</bpmn:script>"
KE_KOMINFO = '<bpmn:sequenceFlow id="Flow_KeKominfo" sourceRef="Gateway_KeKominfo" targetRef="Task_NotifKominfo" />'
TIMER = re.compile(r'(<bpmn:timerEventDefinition id="TimerDef_Disposisi_Target"><bpmn:timeDate [^>]*>)batas_hari_kerja\(1\)')
OUTPUT = '<outputEntry id="OutNarahubung_pendidikan"><text>"kominfo"</text>'

# Where an attempt goes (each runs while a complaint is submitted): (file, the element a finding names).
PLACES = {
    "script": (BASE.bpmn_name, "Task_Rekam"),
    "condition": (BASE.bpmn_name, "Flow_KeKominfo"),
    "timer": (BASE.bpmn_name, "Timer_Disposisi_Target"),
    "dmn_input": ("kategori.dmn", "InputExpression_Kategori"),
    "dmn_output": ("kategori.dmn", "OutNarahubung_pendidikan"),
}

OPEN_VIA_WARNINGS = 'w._module.__builtins__["open"]("MARKER", "w")'  # a catch_warnings object leads to the real builtins
# name: (place, the code: MARKER is a file it must not write, SECRET_FILE one it must not read; what the finding names)
ATTEMPTS: dict[str, tuple[str, str, str]] = {
    "import": ("script", 'import os\nos.system("touch MARKER")', "Impor 'os'"),
    "from_import": ("script", 'from subprocess import run\nrun(["touch", "MARKER"])', "Impor 'subprocess'"),
    "dunder_import": ("script", '__import__("os").system("touch MARKER")', "Nama '__import__'"),
    "open_write": ("script", 'open("MARKER", "w").write("x")', "Fungsi 'open'"),
    "open_read": ("script", 'rahasia = open("SECRET_FILE").read()', "Fungsi 'open'"),
    "exec": ("script", "exec(\"open('MARKER', 'w').write('x')\")", "Fungsi 'exec'"),
    "eval": ("script", "rahasia = eval(\"open('SECRET_FILE').read()\")", "Fungsi 'eval'"),
    "compile": ("script", "exec(compile(\"open('MARKER', 'w').write('x')\", 'x', 'exec'))", "Fungsi 'compile'"),
    "globals": ("script", 'globals()["__builtins__"]["open"]("MARKER", "w")', "Fungsi 'globals'"),
    "vars": ("script", 'b = vars()["__builtins__"]\n(b["open"] if isinstance(b, dict) else b.open)("MARKER", "w")', "Fungsi 'vars'"),
    "locals": ("script", 'locals()["__builtins__"]["open"]("MARKER", "w")', "Fungsi 'locals'"),
    "getattr": ("script", 'rahasia = getattr(beri_tahu, "__globals__")["RAHASIA"]', "Fungsi 'getattr'"),
    "subclasses": (
        "script",
        '[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "catch_warnings"][0]()._module.__builtins__["open"]("MARKER", "w")',
        "Atribut '__subclasses__'",
    ),
    "helper_globals": ("script", 'beri_tahu.__globals__["__builtins__"]["open"]("MARKER", "w")', "Atribut '__globals__'"),
    "str_format": ("script", 'rahasia = "{0.__globals__[RAHASIA]}".format(beri_tahu)', "Atribut 'format'"),
    "format_map": ("script", 'rahasia = "{f.__globals__[RAHASIA]}".format_map({"f": beri_tahu})', "Atribut 'format_map'"),
    "generator_frame": ("script", 'g = (x for x in [1])\ng.gi_frame.f_builtins["open"]("MARKER", "w")', "Atribut 'gi_frame'"),
    "type": (
        "script",
        'w = [c for c in type(()).mro()[1].__subclasses__() if c.__name__ == "catch_warnings"][0]()\n' + OPEN_VIA_WARNINGS,
        "Fungsi 'type'",
    ),
    "object": ("script", 'w = [c for c in object.__subclasses__() if c.__name__ == "catch_warnings"][0]()\n' + OPEN_VIA_WARNINGS, "Fungsi 'object'"),
    "underscore_name": ("script", '_g = beri_tahu\nrahasia = _g.__globals__["RAHASIA"]', "Nama '_g'"),
    "underscore_key": ("script", 'rahasia = {"__rahasia__": "SECRET_FILE"}["__rahasia__"]', "Kunci '__rahasia__'"),
    "lambda": ("script", '(lambda: 0).__globals__["__builtins__"]["open"]("MARKER", "w")', "'lambda'"),
    "while": ("script", "while True:\n    rahasia = 1", "'while'"),
    "condition": ("condition", '__import__("os").system("touch MARKER") == 0', "Nama '__import__'"),
    "timer": ("timer", 'open("MARKER", "w").write("x") and batas_hari_kerja(1)', "Fungsi 'open'"),
    "dmn_input": ("dmn_input", '__import__("os").system("touch MARKER") or pengaduan["category"]', "Nama '__import__'"),
    "dmn_output": ("dmn_output", 'open("MARKER", "w").write("x")', "Fungsi 'open'"),
}


def hostile(place: str, code: str) -> Bundle:
    """The project's model with ``code`` at ``place``."""
    text = escape(code)
    files = dict(BASE.files)
    if place == "script":
        files[BASE.bpmn_name] = BPMN.replace(REKAM, f"<bpmn:script>rekam_pengaduan()\n{text}</bpmn:script>")
    elif place == "condition":
        condition = f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{text}</bpmn:conditionExpression>'
        files[BASE.bpmn_name] = BPMN.replace(KE_KOMINFO, KE_KOMINFO[:-3] + f">{condition}</bpmn:sequenceFlow>")
    elif place == "timer":
        files[BASE.bpmn_name] = TIMER.sub(lambda m: m.group(1) + text, BPMN)
    elif place == "dmn_input":
        files["kategori.dmn"] = DMN.replace('<text>pengaduan["category"]</text>', f"<text>{text}</text>")
    else:
        files["kategori.dmn"] = DMN.replace(OUTPUT, OUTPUT.replace('"kominfo"', text))
    bundle = Bundle(BASE.bpmn_name, files)
    assert bundle.files != BASE.files, place
    return bundle


@pytest.fixture
def target(tmp_path, monkeypatch) -> dict[str, Path]:
    """The marker an attempt must not write, the secret file it must not read, and a secret in the helpers' module."""
    secret = tmp_path / "secret_key"
    secret.write_text(SECRET)
    monkeypatch.setattr(scripting, "RAHASIA", SECRET, raising=False)
    return {"MARKER": tmp_path / "marker", "SECRET_FILE": secret}


def code_of(name: str, target: dict[str, Path]) -> tuple[str, str]:
    place, code, _named = ATTEMPTS[name]
    for token, path in target.items():
        code = code.replace(token, str(path))
    return place, code


# ---- refused when the model is checked ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
def test_validate_refuses_the_attempt_naming_what_is_forbidden(name, target):
    place, code = code_of(name, target)
    bundle = hostile(place, code)
    result, findings = validate(bundle)
    assert result is None
    file, element = PLACES[place]
    named = ATTEMPTS[name][2]
    finding, *_later_lines = [f for f in findings if f.code == "sandbox" and f.message.startswith(named)]
    assert (finding.file, finding.element) == (file, element), findings
    first = bundle.files[file].index(escape(code).splitlines()[0])
    lines = range(bundle.files[file][:first].count("\n") + 1, bundle.files[file][:first].count("\n") + 1 + len(code.splitlines()))
    assert finding.line in lines, finding
    assert str(finding).startswith(f"{file}:{finding.line}: {element}: {named}")


def test_lapor_deploy_refuses_a_hostile_model_and_stores_nothing(monkeypatch, db_url, db_engine, tmp_path, target):
    monkeypatch.setenv("LAPOR_DATABASE_URL", db_url)
    monkeypatch.setenv("LAPOR_SECRET_KEY", "test")
    bundle = hostile(*code_of("import", target))
    for name, text in bundle.files.items():
        if not name.startswith("forms/"):
            (tmp_path / name).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["deploy", str(tmp_path / BASE.bpmn_name)])
    assert result.exit_code == 1
    assert re.search(r"sp4n_lapor\.bpmn:\d+: Task_Rekam: Impor 'os' tidak diizinkan", result.stderr), result.stderr
    with Session(db_engine) as session:
        assert session.scalar(select(func.count()).select_from(Definition)) == 1


# ---- injected past every check: harmless at run time ----------------------------------------------------------


def unchecked(bundle: Bundle) -> tuple[parsing.Parsed, list[Any]]:
    """The model as SpiffWorkflow's parser alone reads it: none of our checks, the static sandbox pass included."""
    roots = {name: parse_xml(name, text)[0] for name, text in bundle.files.items() if name.endswith((".bpmn", ".dmn"))}
    return parsing.parse(bundle, roots), []


def inject(session: Session, bundle: Bundle, at: Any) -> Definition:
    """A version written straight into process_definition, as someone with the database's password could."""
    number = (session.scalar(select(func.max(Definition.number))) or 0) + 1
    row = Definition(number=number, content_hash=bundle.content_hash, bundle=bundle.to_json(), deployed_at=at, deployed_by="penyusup")
    session.add(row)
    session.commit()
    return row


def failures(session: Session, case_id: int) -> int:
    """How often a step of the case failed (the incidents' counts)."""
    return session.scalar(select(func.coalesce(func.sum(Incident.count), 0)).where(Incident.case_id == case_id)) or 0


@pytest.fixture
def raised(monkeypatch) -> list[BaseException]:
    """Each error raised out of an expression the sandbox ran: the proof that a path did run the attempt."""
    errors: list[BaseException] = []

    def spy(method: Any) -> Any:
        def run(self: SandboxEnvironment, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except Exception as error:
                errors.append(error)
                raise

        return run

    monkeypatch.setattr(SandboxEnvironment, "evaluate", spy(SandboxEnvironment.evaluate))
    monkeypatch.setattr(SandboxEnvironment, "execute", spy(SandboxEnvironment.execute))
    return errors


def assert_harmless(target: dict[str, Path], session: Session, *outputs: str) -> None:
    assert not target["MARKER"].exists(), "the attempt wrote its file"
    session.expire_all()
    for state in session.scalars(select(Case.state)):
        assert SECRET not in json.dumps(state_json(state))
    for data in session.scalars(select(AuditEvent.data)):
        assert SECRET not in data
    for output in outputs:
        assert SECRET not in output


@pytest.mark.parametrize("name", sorted(ATTEMPTS))
def test_injected_attempt_is_harmless_on_every_path(name, target, raised, monkeypatch, db_url, db_engine, clock, make_app):
    monkeypatch.setattr(validation, "validate", unchecked)
    monkeypatch.setattr(cache, "_cache", {})  # the hostile parse leaves with the test
    with Session(db_engine) as session:
        inject(session, hostile(*code_of(name, target)), clock.now())
        service = CaseService(session, clock)

        # the submission: the complaint is kept, the step that runs the attempt fails
        tracking_id = service.submit(COMPLAINT).case.tracking_id
        session.commit()
        case = session.scalar(select(Case).where(Case.tracking_id == tracking_id))
        assert (len(raised), failures(session, case.id), case.status) == (1, 1, "diterima")
        assert_harmless(target, session)

        # the worker's pass retries the step: it fails again
        clock.advance(seconds=24 * 3600)
        run_once(lambda: Session(db_engine), clock, "http://lapor.test", None)
        session.expire_all()
        assert (len(raised), failures(session, case.id)) == (2, 2)
        assert_harmless(target, session)

        # Replay re-enacts a recorded failure without running the steps again, so the replay paths are tried on what
        # the issue saw: a case whose steps ran on a version that turned out hostile (deployed before the sandbox, or a
        # row rewritten by someone with the database's password). Replay runs that stored model again: in the sandbox.
        benign = inject(session, hostile("script", 'catatan = len(pengaduan["title"]) > 0'), clock.now())  # a benign edit
        replayed_case = service.submit(COMPLAINT).case
        session.commit()
        assert replayed_case.definition_id == benign.id and replayed_case.status == "diterima"
        session.execute(update(Definition).where(Definition.id == benign.id).values(bundle=hostile(*code_of(name, target)).to_json()))
        session.commit()
        cache._cache.clear()
        before = len(raised)

        # the auditor's history page replays the case on its (now hostile) version
        page = login(make_app(), "auditor").get(f"/riwayat/{replayed_case.tracking_id}")
        assert page.status_code == 200
        assert len(raised) > before
        assert_harmless(target, session, page.get_data(as_text=True))

        # lapor replay does too
        monkeypatch.setenv("LAPOR_DATABASE_URL", db_url)
        monkeypatch.setenv("LAPOR_SECRET_KEY", "test")
        before = len(raised)
        replayed = CliRunner().invoke(main, ["replay", replayed_case.tracking_id])
        assert replayed.exit_code == 1, replayed.output  # the steps that ran back then fail now: a difference, never the code
        assert len(raised) > before
        assert_harmless(target, session, replayed.output)


def test_injected_attempt_with_the_checks_in_place_is_refused_when_the_version_is_loaded(target, session, clock, monkeypatch):
    monkeypatch.setattr(cache, "_cache", {})
    inject(session, hostile(*code_of("import", target)), clock.now())
    with pytest.raises(DefinitionInvalid) as refused:
        CaseService(session, clock).submit(COMPLAINT)
    assert any(f.code == "sandbox" and f.element == "Task_Rekam" for f in refused.value.findings)
    session.rollback()
    assert_harmless(target, session)


# ---- the evaluator itself -------------------------------------------------------------------------------------


def env() -> SandboxEnvironment:
    environment = make_script_engine().environment
    assert isinstance(environment, SandboxEnvironment)
    return environment


def test_ordinary_expressions_still_work():
    data = {"pengaduan": {"title": "Atap bocor", "category": "pendidikan"}, "terima": {"note": ""}, "xs": [3, 1, 2]}
    assert env().evaluate('pengaduan["category"] == "pendidikan"', data)
    assert env().evaluate('len(terima.get("note", "")) > 0', data) is False
    assert env().evaluate("[x * 2 for x in sorted(xs) if x > 1]", data) == [4, 6]
    assert env().evaluate('{k: len(v) for k, v in pengaduan.items()} | {"n": sum(xs)}', data) == {"title": 10, "category": 10, "n": 6}
    assert env().evaluate("f\"{pengaduan['title'].upper()}: {max(xs):>3} {1 / 3:.2f}\"", data) == "ATAP BOCOR:   3 0.33"
    assert env().evaluate("any(x > 2 for x in xs) and all(isinstance(x, int) for x in xs)", data)
    assert env().evaluate("  xs[-1]", data) == 2  # leading blanks, as eval() allows them


def test_a_script_writes_its_variables_into_the_task_data_and_nothing_else():
    data: dict[str, Any] = {"pengaduan": {"title": "Atap bocor"}, "lama": 1}
    env().execute('catatan = len(pengaduan["title"]) > 0\nkata = [k for k in pengaduan["title"].split()]\ndel lama\nn = 1\nn += 2', data)
    assert data == {"pengaduan": {"title": "Atap bocor"}, "catatan": True, "kata": ["Atap", "bocor"], "n": 3}


def test_a_failing_script_changes_no_name_of_the_task_data():
    data = {"pengaduan": {"title": "Atap bocor"}}
    with pytest.raises(SandboxError):
        env().execute('catatan = "ditulis"\nrahasia = "x" * 10**9', data)
    assert data == {"pengaduan": {"title": "Atap bocor"}}


def test_helpers_run_in_the_sandbox_and_the_data_cannot_replace_a_guard():
    data = {"_getattr_": "bukan penjaga", "unit": "dinas-pendidikan"}
    env().execute("jenis = jenis_unit(unit)", data)
    assert data["jenis"] == "satuan_kerja"
    with pytest.raises(SandboxError):
        env().evaluate("ubah_status.__globals__", data)


@pytest.mark.parametrize(
    "expression",
    [
        '"x" * 10**10',
        "[0] * 10**10",
        "10**10**10",
        "7 ** 5000",
        "1 << 10**6",
        "(2**4000) * (2**4000)",
        '"x" * 99999 + "yy"',
        "range(10**6)",
        "[i * j for i in range(1000) for j in range(1000)]",
        '("ab" * 50000).replace("a", "x" * 1000)',
        '("x" * 1000).join(["y"] * 1000)',
        '"%999999999d" % 1',
        "sum([[1]] * 1000, [])",
        'str(["x" * 1000] * 1000)',
        "f\"{['x' * 1000] * 1000}\"",
        '"%s" % (["x" * 1000] * 1000,)',
        'str.join("x" * 1000, ["y"] * 1000)',
        '(1).to_bytes(10**9, "big")',
        "round(5, -10**9)",
        "range(1000)",
        "len(('x' * 100000)" + ".encode().hex()" * 14 + ")",
        "sorted([('ß' * 100000)] * 1000, key=str.upper)",
        "max([('ß' * 100000)] * 1000, key=str.upper)",
        "sorted([['x' * 1000] * 100] * 1000, key=str)",
        "[('x' * 100000).upper() for i in range(999)]",
    ],
)
def test_resource_abuse_is_cut_short(expression):
    with pytest.raises((SandboxError, ValueError)):
        env().evaluate(expression, {})


@pytest.mark.parametrize(
    "expression",
    [
        "len(('x' * 100000)" + ".encode().hex()" * 14 + ")",  # each link doubles the text: 1.6 GB at the end
        "sorted([('ß' * 100000)] * 1000, key=str.upper)",  # 'ß'.upper() is 'SS': 256 MB of keys inside one builtin
        "[s.upper() for s in [('x' * 100000)] * 999]",
    ],
)
def test_method_chains_and_key_functions_stay_within_the_allocation_budget(expression):
    tracemalloc.start()
    try:
        with pytest.raises(SandboxError, match=str(sandbox.MAX_ALLOCATION)):
            env().evaluate(expression, {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * sandbox.MAX_ALLOCATION, peak  # a few copies of the budget, not gigabytes


def test_methods_and_key_functions_of_ordinary_expressions_still_work():
    data = {"xs": ["b", "A", "c"], "teks": "Jalan Rusak"}
    assert env().evaluate("sorted(xs, key=str.lower)", data) == ["A", "b", "c"]
    assert env().evaluate("max(xs, key=len) + min(xs) + max([], default='-')", data) == "bA-"
    assert env().evaluate("teks.lower().replace(' ', '-').encode().hex()", data) == b"jalan-rusak".hex()
    assert env().evaluate("(255).bit_length() + int.from_bytes(b'a', 'big') + (2.5).real", data) == 8 + 97 + 2.5
    assert len(env().evaluate("list(range(999))", {})) == 999  # fewer than 1,000 numbers, as the README says
    # each evaluation has budgets of its own: what one spent does not count against the next
    for _ in range(3):
        assert len(env().evaluate("[('x' * 100000).upper() for i in range(9)]", {})) == 9


def test_working_days_are_bounded():
    assert scripting.batas_hari_kerja(scripting.MAX_WORKING_DAYS) > scripting.batas_hari_kerja(1)
    for n in (10**6, 0, -1):
        with pytest.raises(ValueError, match=str(scripting.MAX_WORKING_DAYS)):
            env().evaluate(f"batas_hari_kerja({n})", {})


def test_growing_a_list_in_a_loop_is_cut_short():
    for script in ("xs = [1] * 1000\nfor i in range(100):\n    xs.extend(xs)", "xs = [1] * 1000\nfor i in range(100):\n    xs[len(xs):] = xs"):
        with pytest.raises(SandboxError):
            env().execute(script, {})
    with pytest.raises(SandboxError, match=str(MAX_ITERATIONS)):
        env().execute("n = 0\nfor i in range(999):\n    for j in range(999):\n        n += 1", {})


def test_each_expression_is_compiled_once(monkeypatch):
    compiled.cache_clear()
    calls = []
    real = sandbox._restricted
    monkeypatch.setattr(sandbox, "_restricted", lambda tree, mode: calls.append(mode) or real(tree, mode))
    for _ in range(3):
        env().evaluate("1 + 1", {})
        env().execute("x = 1", {})
    assert calls == ["eval", "exec"]


def test_plain_spiffworkflow_and_a_reloaded_workflow_run_in_the_sandbox(target):
    parsed = cache.parsed(BASE.to_json(), BASE.content_hash)
    workflow = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine())
    state = state_serializer().dumps(workflow)
    reloaded = state_serializer().loads(state, parsed.spec, parsed.subprocess_specs)
    assert isinstance(reloaded.script_engine.environment, SandboxEnvironment)

    bundle = hostile(*code_of("open_write", target))
    plain, _findings = unchecked(bundle)
    workflow = BpmnWorkflow(plain.spec, plain.subprocess_specs, script_engine=make_script_engine())
    workflow.get_tasks(state=TaskState.READY)[0].data.update(pengaduan=dict(COMPLAINT))
    with pytest.raises(WorkflowTaskException):
        workflow.do_engine_steps()
    assert not target["MARKER"].exists()


def test_a_stored_state_claiming_an_old_format_is_refused_before_its_migration_evals_anything(target):
    """SpiffWorkflow's migration from format 1.1 eval()s the timer expressions it finds in the state itself."""
    parsed = cache.parsed(BASE.to_json(), BASE.content_hash)
    state = state_json(state_serializer().dumps(BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=make_script_engine())))
    timer = {"typename": "TimerEventDefinition", "label": "x", "dateTime": f"open({str(target['MARKER'])!r}, 'w')"}
    state.update(serializer_version="1.1", spec={"task_specs": {"x": {"name": "x", "typename": "Timer", "event_definition": timer}}})
    with pytest.raises(ValueError, match="1.1"):
        state_serializer().loads(json.dumps(state), parsed.spec, parsed.subprocess_specs)
    assert not target["MARKER"].exists()
