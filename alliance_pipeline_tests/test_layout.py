"""The code location's layout, as a newcomer relies on it: a group in the UI leads to one folder, the pure modules
know nothing of Dagster, no import runs back up and none goes round in a circle, loading the code location imports
no heavy library, and importing the builder builds nothing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from alliance_pipeline import paths

PACKAGE = paths.PROJECT_ROOT / "alliance_pipeline"
PURE = ("methods", "reporting", "edsight", "plans", "sample_data", "school_year", "archive", "atomic", "reference",
        "paths", "validation")
HEAVY = ("great_expectations", "matplotlib", "sklearn", "scipy", "krippendorff", "openpyxl", "celery",
         "dagster_celery", "jinja2", "requests")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """The modules ``path`` imports (``from a.b import c`` counts as a.b.c when that is a module of ours, else a.b)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


MODULES = {_module(path): path for path in PACKAGE.rglob("*.py")}


def _ours(imports: set[str]) -> set[str]:
    return {name for name in imports if name in MODULES}


def test_each_asset_group_is_one_folder_named_as_the_ui_shows_it():
    from alliance_pipeline.code_location import build_defs
    from alliance_pipeline.defs.common import groups

    folders = {}
    for node in build_defs().resolve_asset_graph().asset_nodes:
        module = node.assets_def.op.compute_fn.decorated_fn.__module__
        folders.setdefault(node.group_name, set()).add(module.rsplit(".", 1)[0])
        assert module.startswith(f"alliance_pipeline.defs.{node.group_name}."), (node.key, module)
    constants = {value for name, value in vars(groups).items() if name.isupper()}
    assert set(folders) == constants
    assert all(len(where) == 1 for where in folders.values()), folders
    assert {p.name for p in (PACKAGE / "defs").iterdir() if p.is_dir() and p.name != "__pycache__"} == \
        constants | {"common", "operations"}


def test_the_pure_modules_import_no_dagster_and_nothing_above_them():
    for name, path in MODULES.items():
        if name.count(".") == 0 or name.split(".")[1] not in PURE:
            continue
        imports = _imports(path, top_level_only=False)
        assert not {i for i in imports if i.split(".")[0] in ("dagster", "dagster_graphql")}, (name, imports)
        above = {i for i in _ours(imports) if i.split(".")[1] in ("defs", "code_location", "definitions", "refresh", "cli")}
        assert not above, (name, above)


def test_no_module_imports_the_code_locations_definitions():
    """Wiring takes the graph from the run's context; only the code location's own entry points load ``defs``."""
    for name, path in MODULES.items():
        assert "alliance_pipeline.definitions" not in _imports(path, top_level_only=False), name


def test_no_import_goes_round_in_a_circle():
    graph = {name: _ours(_imports(path, top_level_only=True)) - {name} for name, path in MODULES.items()}
    # a package's __init__ is imported with each of its modules: count a module's imports of its own parents out
    graph = {name: {i for i in deps if not name.startswith(i + ".")} for name, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]):
        state[name] = 1
        for dep in sorted(graph.get(name, ())):
            if state.get(dep) == 1:
                pytest.fail("import circle: " + " -> ".join([*trail[trail.index(dep):], dep]))
            if dep not in state:
                visit(dep, [*trail, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # and between the defs folders: one folder's modules never import a folder that imports it back
    folders: dict[str, set[str]] = {}
    for name, deps in graph.items():
        if name.startswith("alliance_pipeline.defs.") and name.count(".") >= 3:
            folder = name.split(".")[2]
            folders.setdefault(folder, set()).update(d.split(".")[2] for d in deps
                                                     if d.startswith("alliance_pipeline.defs.") and d.count(".") >= 3)
    for folder, deps in folders.items():
        for dep in deps - {folder}:
            assert folder not in folders.get(dep, set()), f"defs/{folder} and defs/{dep} import each other"


def test_loading_the_code_location_imports_no_heavy_library_and_importing_its_builder_builds_nothing():
    code = ("import sys\n"
            "import alliance_pipeline.code_location, alliance_pipeline.cli, alliance_pipeline.refresh\n"
            "assert 'alliance_pipeline.definitions' not in sys.modules, 'an import built the definitions'\n"
            "import alliance_pipeline.definitions\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.PROJECT_ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
