# Guards against a Binder that does not work for a reviewer: a Python other than the lock's (no runtime.txt), a package
# installed unpinned, the "open .md as a notebook" setting written where JupyterLab does not read it (the chapter then
# opens as plain text), or a chapter whose code does not run there. Done as repo2docker does it, in a scratch copy: a
# fresh venv gets .binder/requirements.txt, .binder/postBuild runs, JupyterLab starts, and Chromium opens a chapter.
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jupytext
import pytest

from okapi import paths

CHAPTER = "chapters/strobe.md"  # small, with code cells that import the okapi library
NOT_COPIED = (".git", ".venv", "_build", "private", "__pycache__", ".ipynb_checkpoints", ".pytest_cache", "*.egg-info")
VIEWER_PLUGIN = "@jupyterlab/docmanager-extension:plugin"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(requirements: Path) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==")
            pins[_canonical(name.strip())] = version.strip()
    return pins


def _run(command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{(result.stdout + result.stderr)[-4000:]}"
    return result


@pytest.fixture(scope="session")
def binder(tmp_path_factory):
    """(repository copy, venv, environment) after the Binder set-up: pip install -r .binder/requirements.txt from the
    repository root in a fresh venv, then .binder/postBuild; HOME and every Jupyter folder of the user are scratch, so
    that no setting of this machine's user can help."""
    root = tmp_path_factory.mktemp("binder")
    repo = root / "repo"
    shutil.copytree(paths.REPO_ROOT, repo, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    home = root / "home"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("JUPYTER", "PYTHON", "VIRTUAL_ENV", paths.DATA_DIR_ENV))}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               JUPYTER_CONFIG_DIR=str(home / ".jupyter"), JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
               JUPYTER_RUNTIME_DIR=str(root / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / ".jupyter/lab/user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / ".jupyter/lab/workspaces"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", ".binder/requirements.txt"],
         cwd=repo, env=env, timeout=1800)
    _run([str(repo / ".binder" / "postBuild")], cwd=repo, env=env, timeout=120)
    return repo, venv, env


def test_binder_runs_the_locks_python_and_installs_only_pinned_packages(binder):
    repo, venv, env = binder
    runtime = (repo / ".binder" / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11", f".binder/runtime.txt says {runtime!r}; the lock is resolved for Python 3.11"
    version = _run([str(venv / "bin" / "python"), "-c", "import sys; print(*sys.version_info[:2], sep='.')"]).stdout
    assert version.strip() == "3.11"
    pinned = _pins(repo / "requirements.txt") | _pins(repo / ".binder" / "requirements.txt")
    frozen = _run([str(venv / "bin" / "python"), "-m", "pip", "freeze", "--all", "--exclude-editable"], env=env).stdout
    installed = {_canonical(name): version for name, version in
                 (line.split("==") for line in frozen.splitlines() if "==" in line)}
    installed = {name: version for name, version in installed.items() if name not in ("pip", "setuptools")}
    unpinned = {name: version for name, version in installed.items() if pinned.get(name) != version}
    assert not unpinned, f"installed on Binder but not pinned (or pinned otherwise): {unpinned}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="session")
def jupyterlab(binder, tmp_path_factory):
    """JupyterLab of the Binder venv on a local port: (base URL, token)."""
    repo, venv, env = binder
    port, token = _free_port(), secrets.token_hex(16)
    log_path = tmp_path_factory.mktemp("jupyterlab") / "jupyterlab.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(venv / "bin" / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={repo}", "--LabApp.expose_app_in_browser=True",
             # CI and this machine run the tests as root; Binder runs JupyterLab as an ordinary user.
             "--ServerApp.allow_root=True"],
            cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _get(f"{base}/api/status?token={token}")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + log_path.read_text()[-4000:])
                time.sleep(0.5)
        yield base, token
    finally:
        try:
            for kernel in _get(f"{base}/api/kernels?token={token}"):
                request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
                urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30)
        except OSError:
            pass
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_jupyterlab_reads_the_default_viewer_setting(jupyterlab):
    base, token = jupyterlab
    # JupyterLab's settings service applies the overrides it found to the plugin's schema defaults.
    setting = _get(f"{base}/lab/api/settings/{VIEWER_PLUGIN}?token={token}")
    viewers = setting["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers.get("markdown") == "Jupytext Notebook", f"JupyterLab's default viewers: {viewers}"


# Runs in JupyterLab's page (window.jupyterapp, exposed by --LabApp.expose_app_in_browser): the main-area widget of the
# chapter, what it is, and the state of its first code cell.
CHAPTER_STATE = r"""
const path = arguments[0];
if (!window.jupyterapp || !jupyterapp.shell) return null;
const widget = Array.from(jupyterapp.shell.widgets('main')).find((w) => w.context && w.context.path === path);
if (!widget || !widget.context.isReady) return null;
const notebook = widget.node.classList.contains('jp-NotebookPanel');
const state = {notebook: notebook, classes: widget.node.className,
               text: !!widget.node.querySelector('.jp-FileEditor, .jp-RenderedMarkdown')};
if (notebook) {
  const cells = widget.content.widgets;
  const first = cells.findIndex((cell) => cell.model.type === 'code');
  const kernel = widget.sessionContext.session && widget.sessionContext.session.kernel;
  Object.assign(state, {cells: cells.length, firstCode: first, kernel: kernel ? kernel.status : null,
    count: first >= 0 ? cells[first].model.executionCount : null,
    outputs: first >= 0 ? cells[first].model.outputs.toJSON() : [],
    // JupyterLab renders cells lazily: a cell out of view may have no prompt in the page yet.
    prompt: first >= 0 ? (cells[first].node.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent.trim()
                       : ''});
}
return state;
"""
RUN_FIRST_CODE_CELL = r"""
const [path, index] = arguments;
const widget = Array.from(jupyterapp.shell.widgets('main')).find((w) => w.context && w.context.path === path);
jupyterapp.shell.activateById(widget.id);
widget.content.activeCellIndex = index;
jupyterapp.commands.execute('notebook:run-cell');
return true;
"""


def test_a_chapter_opens_as_a_notebook_and_its_first_code_cell_runs(binder, jupyterlab, browser):
    repo, _, _ = binder
    base, token = jupyterlab
    browser.open(f"{base}/lab/tree/{CHAPTER}?token={token}")
    state = browser.wait_for(CHAPTER_STATE, f"JupyterLab to open {CHAPTER}", 120, CHAPTER)
    assert state["notebook"], \
        f"{CHAPTER} opened as {'text' if state['text'] else 'something'} ({state['classes']}), not as a notebook"
    assert state["cells"] == len(jupytext.read(repo / CHAPTER).cells)
    assert state["firstCode"] >= 0, f"{CHAPTER} has no code cell"
    browser.wait_for(CHAPTER_STATE.replace("return state;", "return state.kernel === 'idle';"),
                     "the chapter's kernel to start", 120, CHAPTER)
    browser.run(RUN_FIRST_CODE_CELL, CHAPTER, state["firstCode"])
    done = browser.wait_for(CHAPTER_STATE.replace("return state;", "return state.count && state.prompt && "
                                                  "state.kernel === 'idle' ? state : null;"),
                            "the first code cell to run", 120, CHAPTER)
    errors = [output for output in done["outputs"] if output.get("output_type") == "error"]
    assert not errors, f"the first code cell of {CHAPTER} raised: {errors}"
    assert done["count"] == 1 and done["prompt"] == "[1]:", done
