"""The architecture contract of docs/ARCHITECTURE.md, checked over the real import graph.

Every import counts: module-level, function-level and ``TYPE_CHECKING`` ones (grimp reads
them all from the source).
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (import-linter brings tomli there)
    import tomli as tomllib

PACKAGE = Path(__file__).resolve().parents[1] / "nasrank"
REPO = PACKAGE.parent

#: The longest function the style allows (docstring included).
MAX_FUNCTION_LINES = 80


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("nasrank", cache_dir=None)


def test_layer_contract_is_kept(monkeypatch):
    # the contract lives in pyproject.toml ([tool.importlinter])
    monkeypatch.chdir(REPO)
    assert lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True) == 0


def test_no_import_cycles_between_modules(graph):
    cyclic = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(imported, module):
                cyclic.append(f"{module} -> {imported}")
    assert cyclic == []


def test_nothing_imports_the_package_root(graph):
    # the root is the public facade; modules below read the version from nasrank._version
    assert graph.find_modules_that_directly_import("nasrank") == set()


def test_no_function_is_longer_than_the_style_allows():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(REPO)}:{node.name}")
    assert long == []


def test_architecture_page_states_the_contract_in_force():
    # docs/ARCHITECTURE.md's layer list is the one import-linter checks
    contract = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in contract["contracts"] if c["type"] == "layers"]
    page = (REPO / "docs" / "ARCHITECTURE.md").read_text()
    block = page.split("<!-- layers:begin -->")[1].split("<!-- layers:end -->")[0]
    documented = [line.strip() for line in block.splitlines() if line.strip() not in ("", "```")]
    assert documented == layers
