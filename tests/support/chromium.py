"""Headless Chromium for the tests, driven through chromedriver's W3C WebDriver endpoint (JSON over HTTP).

Why WebDriver over plain HTTP: Debian's chromium-driver speaks the W3C WebDriver protocol, which urllib drives without
a new Python package, and it can run scripts in the loaded page (naturalWidth of each image after loading, rendered
text, axe-core), take screenshots and hand over the browser's network log. Every host but 127.0.0.1 is made
unresolvable, so that no result depends on the network, and `requests_elsewhere` names any page that tried one.
"""

import base64
import functools
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

WINDOW = (1280, 1000)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--window-size={WINDOW[0]},{WINDOW[1]}", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
# The load event comes before MathJax has typeset (it loads its fonts and TeX extensions on demand): wait for it.
SETTLE = r"""
const done = arguments[arguments.length - 1];
const mathjax = window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise : Promise.resolve();
mathjax.then(() => document.fonts.ready).then(() => done(null), (error) => done(String(error)));
"""
LOCAL_SCHEMES = {"data", "blob", "about", "file", "chrome", "chrome-extension", "devtools"}


def missing_tools() -> list[str]:
    return [tool for tool in ("chromium", "chromedriver") if shutil.which(tool) is None]


class Browser:
    """One headless Chromium session. `open` waits for the load event; `run` and `run_async` execute scripts."""

    def __init__(self, workdir: Path):
        self._log = Path(workdir) / "chromedriver.log"
        with self._log.open("w") as log:
            self._driver = subprocess.Popen([shutil.which("chromedriver"), "--port=0"], stdout=log,
                                            stderr=subprocess.STDOUT)
        self._base = f"http://127.0.0.1:{self._driver_port()}"
        options = {"binary": shutil.which("chromium"), "args": CHROMIUM_ARGS}
        try:
            session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": {
                "browserName": "chrome", "goog:chromeOptions": options,
                # The DevTools network events of every page, read back by requests_elsewhere.
                "goog:loggingPrefs": {"performance": "ALL"},
                "timeouts": {"pageLoad": 60_000, "script": 60_000}}}})
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
            with no_proxy.open(request, timeout=180) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"WebDriver {method} {path}: {error.read().decode()[:1000]}") from None

    def open(self, url: str) -> None:
        """Navigate and wait for the load event (every image has loaded or failed by then)."""
        self._call("POST", f"{self._session}/url", {"url": url})

    def settle(self) -> str | None:
        """Wait until MathJax (if the page loads it) has typeset and the fonts have loaded; MathJax's error or None."""
        return self.run_async(SETTLE)

    def run(self, script: str, *args):
        return self._call("POST", f"{self._session}/execute/sync", {"script": script, "args": list(args)})

    def run_async(self, script: str, *args):
        """A script whose last argument is the callback to call with its result (WebDriver's async convention)."""
        return self._call("POST", f"{self._session}/execute/async", {"script": script, "args": list(args)})

    def requested_urls(self) -> list[str]:
        """Every URL the browser asked for since the last call (network log of the DevTools protocol)."""
        entries = self._call("POST", f"{self._session}/se/log", {"type": "performance"})
        urls = []
        for entry in entries:
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
        return urls

    def wait_for(self, script: str, what: str, timeout: float = 60, *args):
        """Poll a script until it returns a truthy value; return that value or fail naming `what`."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.run(script, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.25)

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


def requests_elsewhere(urls: list[str]) -> list[str]:
    """The URLs among `urls` that leave this machine (any host but 127.0.0.1/localhost, any non-local scheme)."""
    outside = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            continue
        if parts.hostname not in ("127.0.0.1", "localhost"):
            outside.append(url)
    return outside


@contextmanager
def planted_page(html_book: Path, name: str, pattern: str, replacement: str, label: str):
    """A copy of the built page `name` with the first match of `pattern` replaced (it must match), written beside the
    original so that its relative links to images and styles still resolve, under a name of its own per label so that
    the browser cannot show a cached earlier plant. Yields its path relative to the book; removed afterwards."""
    original = html_book / f"{name}.html"
    planted_html, count = re.subn(pattern, replacement, original.read_text(encoding="utf-8"), count=1)
    assert count == 1, f"could not plant {label!r} in {name}.html: its HTML changed shape"
    planted = original.with_name(f"{original.stem}.planted-{re.sub(r'[^A-Za-z0-9]+', '-', label)}.html")
    planted.write_text(planted_html, encoding="utf-8")
    try:
        yield planted.relative_to(html_book).as_posix()
    finally:
        planted.unlink()


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
