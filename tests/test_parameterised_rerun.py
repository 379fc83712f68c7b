# Guards the parameterised rerun of a chapter (papermill's `parameters` convention): a setting given on the command
# line must reach the chapter's code, a misspelt one must be refused rather than silently ignored, and a rerun must
# never overwrite the committed notebook that holds the book's published outputs.
from pathlib import Path

import nbformat
import pytest

from okapi.book import notebooks

CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A parameterised page

```{code-cell} ipython3
:tags: [parameters]

n_imputations = 20
data_dir = None
```

```{code-cell} ipython3
print(n_imputations * 2, data_dir)
```
"""


@pytest.fixture()
def chapter(tmp_path) -> Path:
    source = tmp_path / "page.md"
    source.write_text(CHAPTER)
    return source


def _printed(notebook: Path) -> str:
    cells = nbformat.read(notebook, as_version=4).cells
    return "".join(out.get("text", "") for cell in cells for out in cell.get("outputs", []))


def test_a_setting_on_the_command_line_reaches_the_code(chapter, tmp_path):
    out = tmp_path / "rerun.ipynb"
    assert notebooks.main(["rerun", str(chapter), "--set", "n_imputations=50", "--set", "data_dir=/x/extract",
                           "--out", str(out)]) == 0
    assert _printed(out).strip() == "100 /x/extract"
    injected = [c for c in nbformat.read(out, as_version=4).cells
                if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1


def test_without_settings_the_defaults_run(chapter, tmp_path):
    out = tmp_path / "default.ipynb"
    assert notebooks.main(["rerun", str(chapter), "--out", str(out)]) == 0
    assert _printed(out).strip() == "40 None"


def test_rejects_a_setting_the_chapter_does_not_have(chapter, tmp_path, capsys):
    out = tmp_path / "typo.ipynb"
    assert notebooks.main(["rerun", str(chapter), "--set", "n_imputation=50", "--out", str(out)]) == 1
    assert "n_imputation" in capsys.readouterr().err
    assert not out.exists()


def test_refuses_to_overwrite_a_committed_notebook(tmp_path, capsys):
    source = notebooks.paths.CHAPTERS_DIR / "cohort.md"
    before = notebooks.executed_path(source).read_bytes()
    assert notebooks.main(["rerun", str(source), "--out", str(notebooks.executed_path(source))]) == 2
    assert "elsewhere than chapters/" in capsys.readouterr().err
    assert notebooks.executed_path(source).read_bytes() == before
