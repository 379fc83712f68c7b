# Guards against a comparison that compares nothing: nbval skips cells without stored outputs, so a test run can pass
# while checking no number at all. Here one glued number in a stored notebook is changed by hand; re-execution must
# fail on it, and the untouched notebook must pass.
import shutil
import subprocess
import sys

import nbformat

from book_pages import GLUE_PREFIX
from okapi import paths

NBVAL_ARGS = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(paths.REPO_ROOT / "tests" /
              "nbval_sanitize.cfg"), "-p", "no:cacheprovider", "-q"]


def _run_nbval(notebook):
    return subprocess.run([sys.executable, "-m", "pytest", *NBVAL_ARGS, str(notebook)], cwd=notebook.parent,
                          capture_output=True, text=True, timeout=300)


def _change_first_glued_number(notebook):
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get(GLUE_PREFIX + "text/plain", "")
            shown = text.strip("'")
            if shown.isdigit():
                output["data"][GLUE_PREFIX + "text/plain"] = repr(str(int(shown) + 1))
                nbformat.write(nb, notebook)
                return shown
    raise AssertionError(f"{notebook} has no glued whole number to change")


def test_untouched_notebook_passes_and_a_changed_number_fails(tmp_path):
    original = paths.CHAPTERS_DIR / "reproducing.ipynb"
    untouched = tmp_path / "untouched" / original.name
    changed = tmp_path / "changed" / original.name
    for copy in (untouched, changed):
        copy.parent.mkdir()
        shutil.copyfile(original, copy)

    passed = _run_nbval(untouched)
    assert passed.returncode == 0, passed.stdout[-2000:]

    _change_first_glued_number(changed)
    failed = _run_nbval(changed)
    assert failed.returncode != 0, "nbval did not notice a changed glued number"
    assert "1 failed" in failed.stdout or "failed" in failed.stdout.splitlines()[-1]
