# Guards against an HTML book that builds cleanly but reads badly in a browser once its scripts ran: a Python
# traceback, stderr or warning shown in an output, an image that does not load, an unresolved cross-reference or
# citation, and a glued number that renders blank or not at all. Each check is shown to fail on a planted defect.
#
# Why WebDriver over plain HTTP: Debian's chromium-driver speaks the W3C WebDriver protocol (JSON over HTTP), which
# urllib drives without a new Python package, and it can run scripts in the loaded page (naturalWidth of each image
# after loading, rendered text) and take screenshots. `chromium --dump-dom` only returns the DOM, which cannot tell a
# loaded image from a broken one. The book is served over local HTTP, as a reader's browser gets it; every other host
# is made unresolvable so that the result does not depend on the network (MathJax from its CDN then stays unloaded).
import base64
import functools
import json
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from book_pages import glue_text_roles, toc_docnames
from okapi import paths

SCREENSHOT = paths.REPO_ROOT / "_build" / "test-artifacts" / "front-page.png"  # _build/ is git-ignored
WINDOW = (1280, 1000)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--window-size={WINDOW[0]},{WINDOW[1]}", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]

# Runs in the loaded page. The selectors are how Sphinx, MyST-NB and sphinxcontrib-bibtex render each defect (seen
# in a small book built with a failing cell, stderr, broken {numref}/{ref}/{doc}/{cite} and an empty glued text):
# an error output is div.output.traceback, stderr div.output.stderr; an unresolved reference keeps its "xref" class
# but has no link around it; a citation with an unknown key is an empty "[]" span; an empty glued text an empty
# span.pasted-text, and a glued number MyST-NB could not format (numpy scalar with a format spec) no span at all.
CHECK_PAGE = r"""
const findings = [];
const add = (kind, detail) => findings.push([kind, String(detail).replace(/\s+/g, ' ').trim().slice(0, 160)]);
for (const el of document.querySelectorAll('.output.traceback, .output.error, .output.stderr'))
  add('python error output', el.className + ': ' + el.textContent);
for (const el of document.querySelectorAll('.cell_output')) {
  const hit = el.textContent.match(/Traceback \(most recent call last\)|\b\w*(Error|Exception|Warning): /);
  if (hit) add('python error output', hit[0]);
}
for (const img of document.images)
  if (!img.complete || img.naturalWidth === 0) add('image not loaded', img.getAttribute('src'));
for (const el of document.querySelectorAll('.xref'))
  if (!el.closest('a')) add('unresolved reference', el.className + ': ' + el.textContent);
for (const el of document.querySelectorAll('.bibtex-citation'))
  if (!el.querySelector('a')) add('unresolved reference', 'citation ' + el.textContent);
const text = document.body.innerText;
for (const marker of ['??', '<no title>']) {
  const at = text.indexOf(marker);
  if (at >= 0) add('unresolved reference', text.slice(Math.max(0, at - 60), at + 20));
}
for (const el of document.querySelectorAll('.pasted-text, .pasted-inline'))
  if (!el.textContent.trim()) add('blank glued value', 'empty glued text in: ' + el.parentElement.textContent);
return {findings: findings, glued: document.querySelectorAll('.pasted-text').length};
"""


class Browser:
    """Headless Chromium driven through chromedriver's W3C WebDriver endpoint."""

    def __init__(self, workdir: Path):
        self._log = workdir / "chromedriver.log"
        with self._log.open("w") as log:
            self._driver = subprocess.Popen([shutil.which("chromedriver"), "--port=0"], stdout=log,
                                            stderr=subprocess.STDOUT)
        self._base = f"http://127.0.0.1:{self._driver_port()}"
        options = {"binary": shutil.which("chromium"), "args": CHROMIUM_ARGS}
        try:
            session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {
                "browserName": "chrome", "goog:chromeOptions": options,
                "timeouts": {"pageLoad": 60_000, "script": 30_000}}}})
        except Exception:
            self._driver.kill()
            self._driver.wait()
            raise
        self._session = f"/session/{session['sessionId']}"

    def _driver_port(self) -> int:
        for _ in range(200):
            found = re.search(r"started successfully on port (\d+)", self._log.read_text())
            if found:
                return int(found.group(1))
            if self._driver.poll() is not None:
                break
            time.sleep(0.05)
        self._driver.kill()
        raise RuntimeError("chromedriver did not start:\n" + self._log.read_text())

    def _call(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(self._base + path, method=method, headers={"Content-Type": "application/json"},
                                         data=None if body is None else json.dumps(body).encode())
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with no_proxy.open(request, timeout=120) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"WebDriver {method} {path}: {error.read().decode()[:1000]}") from None

    def open(self, url: str) -> None:
        """Navigate and wait for the load event (every image has loaded or failed by then)."""
        self._call("POST", f"{self._session}/url", {"url": url})

    def run(self, script: str):
        return self._call("POST", f"{self._session}/execute/sync", {"script": script, "args": []})

    def full_page_png(self) -> bytes:
        height = min(int(self.run("return document.documentElement.scrollHeight;")), 12_000)
        self._call("POST", f"{self._session}/window/rect", {"width": WINDOW[0], "height": max(height, WINDOW[1])})
        try:
            return base64.b64decode(self._call("GET", f"{self._session}/screenshot"))
        finally:
            self._call("POST", f"{self._session}/window/rect", {"width": WINDOW[0], "height": WINDOW[1]})

    def close(self) -> None:
        try:
            self._call("DELETE", self._session)
        finally:
            self._driver.terminate()
            self._driver.wait(timeout=30)


@contextmanager
def served(folder: Path):
    """The folder over HTTP on a free local port; yields the base URL."""
    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def page_defects(browser: Browser, url: str, glue_roles: int) -> list[tuple[str, str]]:
    """What is wrong with one page as the browser shows it: [(kind, detail)]; `glue_roles` is the number of
    {glue:text} roles of its source, each of which must have become one span."""
    browser.open(url)
    result = browser.run(CHECK_PAGE)
    findings = [tuple(finding) for finding in result["findings"]]
    if result["glued"] != glue_roles:
        findings.append(("blank glued value", f"{result['glued']} glued texts shown, the source has {glue_roles}"))
    return findings


@pytest.fixture(scope="module")
def browser():
    missing = [tool for tool in ("chromium", "chromedriver") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"HTML not checked in a browser: {', '.join(missing)} not installed (`make test` installs "
                    "chromium and chromium-driver when run as root)")
    with tempfile.TemporaryDirectory() as workdir:
        chromium = Browser(Path(workdir))
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def book_url(html_book):
    with served(html_book) as url:
        yield url


def _glue_roles(name: str) -> int:
    return glue_text_roles(paths.REPO_ROOT / f"{name}.ipynb", "html")


@pytest.mark.parametrize("name", toc_docnames())
def test_page_shows_no_error_output_broken_image_unresolved_reference_or_blank_number(browser, book_url, name):
    defects = page_defects(browser, f"{book_url}/{name}.html", _glue_roles(name))
    assert not defects, f"{name}.html in Chromium: {defects}"


def test_front_page_screenshot_is_saved_for_the_reviewer(browser, book_url, capsys):
    browser.open(f"{book_url}/index.html")
    png = browser.full_page_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    # The whole page, not only the first screen: the ledger table lies below the fold.
    assert width == WINDOW[0] and height > WINDOW[1], (width, height)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.write_bytes(png)
    with capsys.disabled():
        print(f"\nfront-page screenshot ({width}x{height}): {SCREENSHOT}")


# How each defect looks in the HTML Sphinx and MyST-NB write (from the small book described above CHECK_PAGE).
TRACEBACK_OUTPUT = ('<div class="cell_output docutils container"><div class="output traceback highlight-ipythontb '
                    'notranslate"><div class="highlight"><pre><span></span>ValueError: boom</pre></div></div></div>')
STDERR_OUTPUT = ('<div class="cell_output docutils container"><div class="output stderr highlight-myst-ansi '
                 'notranslate"><div class="highlight"><pre><span></span>something on stderr</pre></div></div></div>')
WARNING_IN_STDOUT = ('<div class="cell_output docutils container"><div class="output stream highlight-myst-ansi '
                     'notranslate"><div class="highlight"><pre><span></span>/x.py:3: RuntimeWarning: invalid value '
                     'encountered in divide</pre></div></div></div>')
FIRST_PASTED_TEXT = r'<span class="pasted-text">[^<]+</span>'
FIRST_FIGURE_REFERENCE = (r'<a class="reference internal" href="#(fig-[^"]+)">'
                          r'<span class="std std-numref">[^<]*</span></a>')
FIRST_FIGURE_IMAGE = r'(<figure[^>]*>\s*<img [^>]*?src=")[^"]+'
ARTICLE = r'(<article class="bd-article">)'

PLANTS = {  # kind of defect the checker must report: (pattern, replacement)
    "traceback": ("python error output", ARTICLE, r"\1" + TRACEBACK_OUTPUT),
    "stderr": ("python error output", ARTICLE, r"\1" + STDERR_OUTPUT),
    "warning printed in an output": ("python error output", ARTICLE, r"\1" + WARNING_IN_STDOUT),
    "image missing": ("image not loaded", FIRST_FIGURE_IMAGE, r"\1../_images/not-built.png"),
    "numref unresolved": ("unresolved reference", FIRST_FIGURE_REFERENCE,
                          r'<code class="xref std std-numref docutils literal notranslate"><span class="pre">\1'
                          r'</span></code>'),
    "ref unresolved": ("unresolved reference", ARTICLE, r'\1<p><span class="xref std std-ref">sec-gone</span></p>'),
    "citation unresolved": ("unresolved reference", ARTICLE, r'\1<p><span class="bibtex-citation">[]</span></p>'),
    "question marks": ("unresolved reference", FIRST_FIGURE_REFERENCE, "Figure ??"),
    "page without title": ("unresolved reference", ARTICLE,
                           r'\1<p><a class="reference internal" href="#"><span class="doc">&lt;no title&gt;</span>'
                           r'</a></p>'),
    "glued text empty": ("blank glued value", FIRST_PASTED_TEXT, '<span class="pasted-text"></span>'),
    "glued number dropped": ("blank glued value", FIRST_PASTED_TEXT, ""),
}


def _page_with_figures_and_glue() -> str:
    for name in toc_docnames():
        notebook = (paths.REPO_ROOT / f"{name}.ipynb").read_text(encoding="utf-8")
        if "{glue:figure}" in notebook and "{numref}`fig-" in notebook and _glue_roles(name):
            return name
    pytest.fail("no page has a figure, a figure reference and a glued text to plant defects in")


@pytest.mark.parametrize("plant", PLANTS, ids=lambda plant: plant.replace(" ", "-"))
def test_checker_catches_a_planted(browser, book_url, html_book, plant):
    kind, pattern, replacement = PLANTS[plant]
    name = _page_with_figures_and_glue()
    original = html_book / f"{name}.html"
    planted_html, count = re.subn(pattern, replacement, original.read_text(encoding="utf-8"), count=1)
    assert count == 1, f"could not plant {plant!r} in {name}.html: its HTML changed shape"
    # Beside the original, so that its relative links to images and styles still resolve; a name of its own per plant,
    # so that the browser cannot show a cached earlier plant.
    planted = original.with_name(f"{original.stem}.planted-{plant.replace(' ', '-')}.html")
    planted.write_text(planted_html, encoding="utf-8")
    try:
        before = page_defects(browser, f"{book_url}/{name}.html", _glue_roles(name))
        after = page_defects(browser, f"{book_url}/{planted.relative_to(html_book).as_posix()}", _glue_roles(name))
    finally:
        planted.unlink()
    new = [finding for finding in after if finding not in before]
    assert any(found_kind == kind for found_kind, _ in new), f"{plant!r} not caught; found {after}"
