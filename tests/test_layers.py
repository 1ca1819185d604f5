"""The layers go one way: ui -> app/services -> models, with app/crypto pure. Read from the
source (every import, including those inside functions and TYPE_CHECKING blocks), so
that a shortcut fails here instead of in review."""

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "ui", "models")
COMPOSITION_ROOT = "app.__main__"  # decides between the GUI and the CLI


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, as dotted names (`from a import b` gives a and a.b)."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the importing module's package
                anchor = module_name(path).split(".")
                if path.name != "__init__.py":
                    anchor.pop()
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def source_graph() -> dict[str, set[str]]:
    return {module: set(names) for module, names in _read_sources().items()}


@functools.cache
def _read_sources() -> dict[str, frozenset[str]]:
    graph = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            graph[module_name(path)] = frozenset(imports_of(path))
    return graph


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Each forbidden import as "importer -> imported: rule"."""
    found = []
    for module, imported in sorted(graph.items()):
        for name in sorted(imported):
            rule = _rule_broken(module, name)
            if rule:
                found.append(f"{module} -> {name}: {rule}")
    return found


def _rule_broken(module: str, name: str) -> str | None:
    if within(module, "models") and within(name, "app", "ui"):
        return "models depend on nothing of the application"
    if within(module, "app") and module != COMPOSITION_ROOT and within(name, "ui", "PySide6"):
        return "app/ knows no GUI"
    if within(module, "app.crypto") and within(
        name, "app.services", "app.store", "app.keyslots", "models", "peewee"
    ):
        return "app/crypto is pure: no store, no services, no models"
    if within(module, "ui", "app.cli") and within(
        name, "models", "peewee", "playhouse", "app.store", "app.keyslots", "app.remember"
    ):
        return "the faces reach the store only through app/services"
    return None


def cycles(graph: dict[str, set[str]], inside: str) -> list[list[str]]:
    """The import cycles among the modules under `inside` (a package name)."""
    nodes = {m for m in graph if within(m, inside)}
    edges = {m: {n for n in graph[m] if n in nodes and n != m} for m in nodes}
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(nodes):
        if node not in state:
            visit(node)
    return found


def test_no_module_imports_across_the_layers():
    assert violations(source_graph()) == []


def test_app_has_no_import_cycle():
    assert cycles(source_graph(), "app") == []


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("models.certificates", "app.services.names"),
        ("models.schema", "ui.main_window"),
        ("app.services.users", "PySide6.QtCore"),
        ("app.cli", "ui.application"),
        ("app.crypto.csr", "app.services.certificates"),
        ("app.crypto.parse", "app.store"),
        ("app.crypto.cms", "models"),
        ("ui.groups_view", "models"),
        ("ui.tasks", "peewee"),
        ("ui.application", "app.store"),
        ("ui.login", "app.keyslots"),
        ("ui.login", "app.remember"),
        ("app.cli.certificates", "models"),
        ("app.cli.signin", "app.store"),
    ],
)
def test_each_forbidden_import_is_caught(importer, imported):
    graph = source_graph()
    graph[importer] = graph.get(importer, set()) | {imported}
    assert any(v.startswith(f"{importer} -> {imported}:") for v in violations(graph))


def test_the_composition_root_may_start_the_gui():
    graph = {COMPOSITION_ROOT: {"ui.application"}}
    assert violations(graph) == []


def test_a_cycle_in_the_services_is_caught():
    graph = source_graph()
    graph["app.services.session"] = graph["app.services.session"] | {"app.services.audit_log"}
    found = cycles(graph, "app")
    assert any({"app.services.audit_log", "app.services.session"} <= set(c) for c in found)


def test_the_reader_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from app.services.session import Session\n"
        "def f():\n    from app.services import journal\n"
    )
    assert {"app.services.session", "app.services.journal"} <= imports_of(source)


SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE FROM|PRAGMA|ON CONFLICT)\b")


def code_strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_raw_sql_of_the_services_lives_in_models_statements():
    found = [
        f"{path.name}:{line}: {text[:40]!r}"
        for path in sorted((ROOT / "app" / "services").rglob("*.py"))
        for line, text in code_strings(path)
        if SQL_WORDS.search(text)
    ]
    assert found == []


def test_the_statements_use_no_sqlite_only_syntax():
    sql = " ".join(text for _, text in code_strings(ROOT / "models" / "statements.py"))
    assert "ON CONFLICT DO NOTHING" in sql
    assert "INSERT OR" not in sql and "?" not in sql


# Service helpers that take or return peewee rows: for other services, never for a face.
ROW_HELPERS = {
    "app.services.certificates": {"find", "create_certificate", "issuer_certificates"},
    "app.services.private_keys": {"seal_key"},
    "app.services.certificate_groups": {"find_group"},
    "app.services.policies": {"decide", "certificates_for"},
    "app.services.request_completion": {"complete_with"},
}


def face_modules() -> list[Path]:
    cli = ROOT / "app" / "cli"
    faces = sorted(cli.rglob("*.py")) if cli.is_dir() else [cli.with_suffix(".py")]
    return [*sorted((ROOT / "ui").rglob("*.py")), *faces]


def test_no_face_calls_a_service_helper_that_deals_in_rows():
    found = []
    for path in face_modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ROW_HELPERS:
                found += [
                    f"{path.name}: {a.name}"
                    for a in node.names
                    if a.name in ROW_HELPERS[node.module]
                ]
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                module = f"app.services.{node.value.id}"
                if node.attr in ROW_HELPERS.get(module, ()):
                    found.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert found == []


def test_no_face_names_a_permission():
    from models.permissions import ALL_PERMISSIONS

    named = [
        f"{path.name}:{line}: {text}"
        for path in face_modules()
        for line, text in code_strings(path)
        # "sign" is also the name of a command.
        if text in ALL_PERMISSIONS and (text != "sign" or path.is_relative_to(ROOT / "ui"))
    ]
    assert named == []
