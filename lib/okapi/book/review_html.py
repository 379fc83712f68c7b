"""The HTML page of `make review` (_build/review/index.html), written from the same document as review.json.

One self-contained page (no script, no network): the verdict, a table of pages, then every difference (a figure that
changed shows the published and the rerun image side by side, and the changed pixels in red), then everything that was
compared, page by page, folded.
"""

import html
from pathlib import Path

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 80rem; padding: 0 1rem; color: #1a1a1a; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; width: 100%; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.text { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; max-width: 30rem; }
.verdict { font-size: 1.2rem; padding: 0.75rem 1rem; border-left: 0.5rem solid; }
.ok { border-color: #1b7a2f; background: #eef8f0; } .bad { border-color: #b00020; background: #fdeef0; }
.status-different { color: #b00020; font-weight: bold; } .status-close { color: #8a5a00; }
.pair { display: flex; gap: 1rem; flex-wrap: wrap; align-items: flex-start; }
.pair figure { margin: 0; flex: 1 1 24rem; } .pair img { max-width: 100%; border: 1px solid #bbb; }
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _text_cell(value) -> str:
    return '<td class="text"><em>(absent)</em></td>' if value is None else f'<td class="text">{_e(value)}</td>'


def _status(word: str) -> str:
    return f'<span class="status-{_e(word)}">{_e(word)}</span>'


def _page_summary(page: dict) -> str:
    figures = page["figures"]
    counts = " / ".join(str(sum(f["status"] == word for f in figures)) for word in ("equal", "close", "different"))
    different = sum(item["status"] != "equal" for item in page["texts"])
    result = "failed to run" if page["error"] else ("reproduced" if page["reproduced"] else "differs")
    css = "equal" if page["reproduced"] else "different"
    seconds = "" if page["seconds"] is None else f"{page['seconds']:.1f}"
    return (f"<tr><td><a href=\"#{_e(page['page'])}\">{_e(page['page'])}</a></td><td>{seconds}</td>"
            f"<td>{len(page['texts'])}</td><td>{different}</td><td>{counts}</td>"
            f"<td><span class=\"status-{css}\">{_e(result)}</span></td></tr>")


def _figure_pair(figure: dict) -> str:
    images = figure["images"]
    numbers = []
    if figure.get("changed_pixels") is not None:
        numbers.append(f"{100 * figure['changed_pixels']:.2f}% of pixels changed")
    if figure.get("hash_distance") is not None:
        numbers.append(f"perceptual hash: {figure['hash_distance']} of 64 bits differ")
    panels = []
    for side, caption in (("published", "Published"), ("rerun", "Rerun"), ("changed", "Changed pixels (red)")):
        if side in images:
            panels.append(f'<figure><img src="{_e(images[side])}" alt="{_e(caption)} image of {_e(figure["key"])}">'
                          f"<figcaption>{_e(caption)}</figcaption></figure>")
        elif side != "changed":
            panels.append(f"<figure><figcaption>{_e(caption)}: absent</figcaption></figure>")
    return (f"<h4>{_e(figure['key'])}: {_status(figure['status'])}</h4><p>{_e('; '.join(numbers))}</p>"
            f'<div class="pair">{"".join(panels)}</div>')


def _text_rows(items: list[dict], with_status: bool) -> str:
    head = "<tr><th>Kind</th><th>What</th><th>Published</th><th>Rerun</th>" + ("<th>Status</th>" if with_status else "")
    rows = [head + "</tr>"]
    for item in items:
        status = f"<td>{_status(item['status'])}</td>" if with_status else ""
        rows.append(f"<tr><td>{_e(item['kind'])}</td><td>{_e(item['key'])}</td>{_text_cell(item['published'])}"
                    f"{_text_cell(item['rerun'])}{status}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _page_differences(page: dict) -> str:
    parts = [f"<h3 id=\"{_e(page['page'])}\">{_e(page['page'])}</h3>"]
    if page["error"]:
        parts.append(f"<p class=\"status-different\">The rerun failed: {_e(page['error'])}</p>")
    different = [item for item in page["texts"] if item["status"] != "equal"]
    if different:
        parts.append(_text_rows(different, with_status=False))
    parts += [_figure_pair(figure) for figure in page["figures"] if figure["status"] != "equal"]
    if len(parts) == 1:
        parts.append("<p>No difference.</p>")
    return "\n".join(parts)


def _page_everything(page: dict) -> str:
    figures = "".join(f"<li>{_e(f['key'])}: {_status(f['status'])}</li>" for f in page["figures"])
    return (f"<details><summary>{_e(page['page'])}: {len(page['texts'])} texts, {len(page['figures'])} figures"
            f"</summary>{_text_rows(page['texts'], with_status=True)}<ul>{figures}</ul></details>")


def write_html(document: dict, target: Path) -> None:
    context = [f"{key}: {_e(document[key])}" for key in ("commit", "rerun_seconds", "jobs", "published", "rerun")
               if key in document]
    body = [
        "<h1>Review: the book rerun from scratch beside the published book</h1>",
        f"<p class=\"verdict {'ok' if document['reproduced'] else 'bad'}\">{_e(document['verdict'])}</p>",
        f"<p>{'; '.join(context)}</p>",
        "<p>Text (glued values, table cells, printed results, published files, alt texts) must match exactly, after "
        "the same sanitising of memory addresses and timings as the tests. Figures may differ by rendering noise: at "
        "most 1% of pixels changed, or a size a pixel or two off with the same perceptual hash.</p>",
        "<h2>Pages</h2><table><tr><th>Page</th><th>Rerun (s)</th><th>Texts compared</th><th>Texts different</th>"
        "<th>Figures equal / close / different</th><th>Result</th></tr>",
        *[_page_summary(page) for page in document["pages"]],
        "</table><h2>Differences</h2>",
        *[_page_differences(page) for page in document["pages"] if not page["reproduced"]
          or any(figure["status"] != "equal" for figure in page["figures"])],
        "<h2>Everything compared</h2>",
        *[_page_everything(page) for page in document["pages"]],
    ]
    if all(page["reproduced"] and all(f["status"] == "equal" for f in page["figures"]) for page in document["pages"]):
        body.insert(body.index("<h2>Everything compared</h2>"), "<p>None.</p>")
    target.write_text("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Review of the book"
                      f"</title><style>{STYLE}</style></head><body><main>\n" + "\n".join(body) +
                      "\n</main></body></html>\n", encoding="utf-8")
