# Guards the library's architecture against erosion: a module dropped at the top of lib/okapi instead of in the
# subpackage of its concern, an import that goes upwards (a model importing a chapter, the data layer importing the
# book), a cycle between subpackages, a subpackage without the docstring saying what lives there, or a module grown
# past the size a reader can hold in mind.
import ast
from pathlib import Path

import pytest

from okapi import paths

# Lowest first: a module may import from its own unit and from any unit before it, never after.
LAYERS = ("paths", "plan", "compute", "data", "book", "verdicts", "synthetic", "models", "chapters", "simulation", "sensitivity",
          "cli", "__main__")
TOP_LEVEL_MODULES = {"__init__", "__main__", "cli", "paths", "plan"}
MAX_LINES = 400


def library_modules() -> list[Path]:
    return sorted(paths.LIB_DIR.rglob("*.py"))


def unit_of(path: Path, lib_dir: Path) -> str:
    return path.relative_to(lib_dir).parts[0].removesuffix(".py")


def imported_units(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "okapi":
                found += [(node.lineno, alias.name) for alias in node.names]
            elif node.module.startswith("okapi."):
                found.append((node.lineno, node.module.split(".")[1]))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[1]) for alias in node.names
                      if alias.name.startswith("okapi.")]
    return found


def upward_imports(files, lib_dir: Path = paths.LIB_DIR) -> list[str]:
    problems = []
    for path in files:
        unit = unit_of(path, lib_dir)
        if unit == "__init__":
            continue
        for line, imported in imported_units(path):
            if imported != unit and (imported not in LAYERS or LAYERS.index(imported) > LAYERS.index(unit)):
                problems.append(f"{path.relative_to(lib_dir)}:{line} ({unit}) imports okapi.{imported}")
    return problems


def test_no_import_goes_upwards_between_subpackages():
    assert upward_imports(library_modules()) == []


def test_an_upward_import_is_caught(tmp_path):
    planted = tmp_path / "okapi" / "models" / "planted_upward.py"
    planted.parent.mkdir(parents=True)
    planted.write_text("from okapi.chapters.pain import LINEAR_TIME\nfrom okapi.data import loading\n")
    assert upward_imports([planted], tmp_path / "okapi") == ["models/planted_upward.py:1 (models) imports okapi.chapters"]


def test_only_entry_points_and_the_plan_sit_at_the_top_of_the_library():
    top = {path.stem for path in paths.LIB_DIR.glob("*.py")}
    assert top <= TOP_LEVEL_MODULES, f"modules outside a subpackage: {sorted(top - TOP_LEVEL_MODULES)}"
    units = {path.name for path in paths.LIB_DIR.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    assert units == set(LAYERS) - {"paths", "plan", "cli", "__main__"}, "a subpackage missing from LAYERS"


@pytest.mark.parametrize("package", [p for p in LAYERS if (paths.LIB_DIR / p).is_dir()])
def test_every_subpackage_says_what_lives_there(package):
    docstring = ast.get_docstring(ast.parse((paths.LIB_DIR / package / "__init__.py").read_text(encoding="utf-8")))
    assert docstring and len(docstring) > 80, f"okapi.{package} has no docstring saying what it holds"


def test_no_module_is_longer_than_a_reader_can_hold():
    long = {str(p.relative_to(paths.LIB_DIR)): n for p in library_modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}, f"modules over {MAX_LINES} lines: split them by concern"


def test_test_only_helpers_live_in_the_tests():
    names = {path.stem for path in library_modules()}
    assert not names & {"rbridge", "known_truth", "known_truth_trajectories", "simulation_checks"}


# okapi_publish sits beside the library, outside the notebooks' fingerprint (its docstring says why): it lays out what
# the chapters stored, so it may read the publishing layers and never an analysis, whose numbers it must not compute.
PUBLISH_DIR = paths.REPO_ROOT / "lib" / "okapi_publish"
PUBLISH_MAY_IMPORT = {"paths", "plan", "data", "book"}


def publishing_imports_of_analyses(files) -> list[str]:
    return [f"{path.name}:{line} imports okapi.{unit}" for path in files for line, unit in imported_units(path)
            if unit not in PUBLISH_MAY_IMPORT]


def test_the_publishing_package_reads_the_publishing_layers_only():
    assert publishing_imports_of_analyses(sorted(PUBLISH_DIR.glob("*.py"))) == []


def test_an_analysis_imported_by_the_publishing_package_is_caught(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("from okapi.models import mixed_models\nfrom okapi.book import report\n")
    assert publishing_imports_of_analyses([planted]) == ["planted.py:1 imports okapi.models"]


def test_no_publishing_module_is_longer_than_a_reader_can_hold():
    long = {p.name: n for p in PUBLISH_DIR.glob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines()))
            > MAX_LINES}
    assert long == {}
