# Guards against a review that cannot see a change: `make review` compares a fresh rerun of every chapter with the
# published notebooks, and a comparison that skipped glued values, table cells or figures would call any rerun
# "reproduced". Copies of two small stored notebooks are compared untouched (must pass), then with a glued number and a
# table cell changed, or a figure redrawn (must fail, name what changed, exit non-zero); one chapter is really rerun.
import base64
import html
import hashlib
import io
import json
import re
import shutil

import nbformat
import pytest
from PIL import Image, ImageDraw

from book_pages import GLUE_PREFIX
from okapi import paths
from okapi.book import review

PAGES = ("chapters/reproducing", "chapters/cohort")  # small; glued numbers, tables and figures between them


@pytest.fixture
def trees(tmp_path):
    """(published, rerun, out): two folders holding copies of PAGES' stored notebooks, and a report folder."""
    published, rerun = tmp_path / "published", tmp_path / "rerun"
    for root in (published, rerun):
        for page in PAGES:
            target = root / f"{page}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(paths.REPO_ROOT / f"{page}.ipynb", target)
    return published, rerun, tmp_path / "review"


def _compare(trees) -> tuple[int, dict, str]:
    published, rerun, out = trees
    status = review.main(["compare", str(published), str(rerun), "--out", str(out)])
    return status, json.loads((out / "review.json").read_text()), (out / "index.html").read_text()


def _different(document) -> list[dict]:
    return [item for page in document["pages"] for item in page["texts"] if item["status"] != "equal"]


def _edit_outputs(notebook, edit) -> tuple[str, str]:
    """Apply edit(output) to the outputs in order until it returns (key, old, new); write the notebook."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            done = edit(output)
            if done:
                nbformat.write(nb, notebook)
                return done
    raise AssertionError(f"nothing to change in {notebook}")


def _change_glued_number(output):
    text = output.get("data", {}).get(GLUE_PREFIX + "text/plain", "")
    if text.strip("'").isdigit():
        output["data"][GLUE_PREFIX + "text/plain"] = repr(str(int(text.strip("'")) + 1))
        return output["metadata"]["scrapbook"]["name"], text, output["data"][GLUE_PREFIX + "text/plain"]
    return None


def _change_table_cell(output):
    table = output.get("data", {}).get("text/markdown", "")
    rows = [line for line in table.splitlines() if line.startswith("|") and not re.fullmatch(r"\|[\s:|-]+\|", line)]
    first_row = next((row for row in rows[1:] if re.search(r"\d", row)), None)  # rows[0] is the header
    if first_row is None:
        return None
    changed_row = re.sub(r"\d", lambda digit: str((int(digit.group()) + 1) % 10), first_row, count=1)
    output["data"]["text/markdown"] = table.replace(first_row, changed_row, 1)
    return "table", first_row, changed_row


def _redraw_first_figure(output, share: float):
    data = output.get("data", {})
    if GLUE_PREFIX + "image/png" not in data:
        return None
    image = Image.open(io.BytesIO(base64.b64decode(data[GLUE_PREFIX + "image/png"]))).convert("RGBA")
    side = max(1, int((share * image.width * image.height) ** 0.5))
    ImageDraw.Draw(image).rectangle([10, 10, 10 + side - 1, 10 + side - 1], fill=(255, 0, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data[GLUE_PREFIX + "image/png"] = base64.b64encode(buffer.getvalue()).decode()
    return output["metadata"]["scrapbook"]["name"], "", ""


def test_untouched_copies_are_reproduced(trees):
    status, document, page = _compare(trees)
    texts = [item for page_ in document["pages"] for item in page_["texts"]]
    figures = [figure for page_ in document["pages"] for figure in page_["figures"]]
    kinds = {item["kind"] for item in texts}
    # Not a comparison of nothing: glued values, table cells and figures were all compared, and found equal.
    assert {"glued value", "table cell", "figure alt text"} <= kinds, kinds
    assert figures and all(figure["status"] == "equal" for figure in figures)
    assert status == 0 and document["reproduced"] and not _different(document)
    assert document["verdict"].startswith("Reproduced") and document["verdict"] in page


def test_changed_glued_number_and_table_cell_are_flagged(trees):
    _, rerun, _ = trees
    glue_name, old_number, new_number = _edit_outputs(rerun / f"{PAGES[0]}.ipynb", _change_glued_number)
    _edit_outputs(rerun / f"{PAGES[1]}.ipynb", _change_table_cell)
    status, document, page = _compare(trees)
    different = _different(document)
    assert status == 1 and not document["reproduced"]
    assert sorted(item["kind"] for item in different) == ["glued value", "table cell"], different
    glued = next(item for item in different if item["kind"] == "glued value")
    assert (glued["key"], glued["published"], glued["rerun"]) == (f"glue {glue_name}", old_number, new_number)
    assert document["verdict"].startswith("Not reproduced: 2 of ")
    differences = page.split("<h2>Everything compared</h2>")[0]  # the report's list of differences
    assert all(html.escape(item["key"]) in differences for item in different)


def test_redrawn_figure_is_flagged_and_shown_side_by_side(trees):
    _, rerun, out = trees
    name = _edit_outputs(rerun / f"{PAGES[1]}.ipynb", lambda output: _redraw_first_figure(output, 0.05))[0]
    status, document, page = _compare(trees)
    figure = next(f for p in document["pages"] for f in p["figures"] if f["key"] == f"figure {name}")
    assert status == 1 and figure["status"] == "different" and figure["changed_pixels"] > 0.04
    assert set(figure["images"]) == {"published", "rerun", "changed"}
    for image in figure["images"].values():
        assert (out / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image in page


def test_rendering_noise_in_a_figure_is_tolerated(trees):
    _, rerun, _ = trees
    name = _edit_outputs(rerun / f"{PAGES[1]}.ipynb", lambda output: _redraw_first_figure(output, 0.001))[0]
    status, document, _ = _compare(trees)
    figure = next(f for p in document["pages"] for f in p["figures"] if f["key"] == f"figure {name}")
    assert figure["status"] == "close" and 0 < figure["changed_pixels"] <= 0.01
    assert status == 0 and "1 within rendering noise" in document["verdict"]


def test_review_refuses_a_real_extract(monkeypatch, capsys):
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(paths.DATA_DIR))
    assert review.main(["run"]) == 2
    assert "cannot be compared" in capsys.readouterr().err


@pytest.mark.notebooks
def test_rerun_happens_in_a_scratch_copy_and_leaves_the_committed_notebooks_alone(tmp_path):
    committed = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths.CHAPTERS_DIR.glob("*.ipynb")}
    status = review.main(["run", str(paths.CHAPTERS_DIR / "reproducing.md"), "--out", str(tmp_path)])
    document = json.loads((tmp_path / "review.json").read_text())
    assert [page["page"] for page in document["pages"]] == ["chapters/reproducing"]
    assert document["pages"][0]["seconds"] > 0 and not document["pages"][0]["error"]
    assert status == 0, document["verdict"]
    assert committed == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths.CHAPTERS_DIR.glob("*.ipynb")}
