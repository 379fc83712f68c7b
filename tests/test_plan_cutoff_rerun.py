# Guards the analysis plan's promise that a reviewer can change an analysis choice without touching the data or the
# published figures: the depression chapter rerun with the analysis cut-off at HADS-D > 10 (through the parameters
# mechanism, as a reviewer would) must change the chapter's numbers, while the data it analysed (the committed
# synthetic cohort, generated with the paper's cut-off) and the published figure it is compared with stay the same.
import subprocess
import sys

import nbformat

from okapi import paths, plan
from okapi.book.notebooks import STAMP_KEY

CHAPTER = paths.CHAPTERS_DIR / "depression.md"


def glued(notebook) -> dict[str, str]:
    texts = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            plain = output.get("data", {}).get("application/papermill.record/text/plain")
            if name and plain is not None:
                texts[name] = plain
    return texts


def test_depression_chapter_rerun_at_another_cutoff_changes_its_numbers_not_the_data_or_targets(tmp_path):
    assert plan.HADS_STRICT_CUTOFF != plan.HADS_D_CUTOFF
    out = tmp_path / "depression-cutoff.ipynb"
    done = subprocess.run([sys.executable, "-m", "okapi.book.notebooks", "rerun", str(CHAPTER),
                           "--set", f"hads_d_cutoff={plan.HADS_STRICT_CUTOFF}", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rerun = nbformat.read(out, as_version=4)
    committed = nbformat.read(CHAPTER.with_suffix(".ipynb"), as_version=4)
    new, old = glued(rerun), glued(committed)
    assert new["dep_cutoff"] == repr(str(plan.HADS_STRICT_CUTOFF))
    assert old["dep_cutoff"] == repr(str(plan.HADS_D_CUTOFF))
    for name in ("dep_n_depressed", "dep_interaction_month", "dep_omnibus_chi2", "dep_cutoff_source"):
        assert new[name] != old[name], f"{name} did not move with the cut-off"
    # The published figure and the data are what they were.
    assert new["published_r8"] == old["published_r8"]
    assert rerun.metadata[STAMP_KEY]["data_sha256"] == committed.metadata[STAMP_KEY]["data_sha256"]
