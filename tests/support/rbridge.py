"""Run an R script as an independent reference implementation, with CSV files in and out of a temporary folder.

Contract with the R script: it is called as `Rscript <script> <input_dir> <output_dir>`; every input DataFrame
`name` is written to `<input_dir>/<name>.csv`, and every `*.csv` the script leaves in `<output_dir>` comes back as a
DataFrame keyed by its file stem. R is optional for the project: callers ask `r_unavailable_reason` first and skip
with that reason.
"""

import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd


class RScriptError(RuntimeError):
    """The R script exited with an error; the message carries R's stderr."""


def rscript_path() -> str | None:
    return shutil.which("Rscript")


def r_unavailable_reason(packages: Sequence[str] = (), timeout: float = 60.0) -> str | None:
    """None when Rscript runs and every package loads; otherwise a sentence saying what is missing."""
    rscript = rscript_path()
    if rscript is None:
        return "Rscript is not on PATH (install r-base-core)"
    check = (
        "pk <- commandArgs(trailingOnly = TRUE); "
        "miss <- pk[!vapply(pk, requireNamespace, logical(1), quietly = TRUE)]; "
        "cat(miss, sep = '\\n')"
    )
    try:
        done = subprocess.run(
            [rscript, "--vanilla", "-e", check, *packages],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"Rscript could not be run: {error}"
    if done.returncode != 0:
        return f"Rscript failed: {done.stderr.strip()[-300:]}"
    missing = [line for line in done.stdout.split() if line]
    if missing:
        return "R package(s) not installed: " + ", ".join(missing) + " (Debian: r-cran-<name in lower case>)"
    return None


def run_r_script(
    script_path: str | Path,
    inputs: Mapping[str, pd.DataFrame],
    timeout: float = 300.0,
    extra_args: Sequence[str] = (),
) -> dict[str, pd.DataFrame]:
    """Run `script_path` on `inputs` and return the CSV files it wrote, keyed by file stem."""
    rscript = rscript_path()
    if rscript is None:
        raise RScriptError("Rscript is not on PATH")
    with tempfile.TemporaryDirectory(prefix="okapi-r-") as tmp:
        in_dir, out_dir = Path(tmp, "in"), Path(tmp, "out")
        in_dir.mkdir()
        out_dir.mkdir()
        for name, frame in inputs.items():
            # Full float precision: the comparisons downstream go to 1e-8.
            frame.to_csv(in_dir / f"{name}.csv", index=False, float_format="%.17g")
        done = subprocess.run(
            [rscript, "--vanilla", str(script_path), str(in_dir), str(out_dir), *extra_args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RScriptError(f"{Path(script_path).name} failed ({done.returncode}):\n{done.stderr[-2000:]}")
        return {path.stem: pd.read_csv(path) for path in sorted(out_dir.glob("*.csv"))}


# --- Frozen R results: the fast loop checks against R without running it ---------------------------------------------
# As statsmodels keeps R's outputs beside its tests, every R reference run here is also stored under
# tests/results/<name>/ (its CSV outputs plus INPUTS_SHA256, the digest of the script and of the exact inputs). A test
# asks for `source` "frozen" (read the stored outputs; fails, naming the command, when they are missing or were made
# from other inputs) or "live" (run R now; marked `r`, skipped without R). With OKAPI_FREEZE_R=1 a live run also
# rewrites the stored outputs: `make r-results`.
import hashlib  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402

import pytest  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"
FREEZE_ENV = "OKAPI_FREEZE_R"
DIGEST_FILE = "INPUTS_SHA256"
R_SOURCES = [pytest.param("frozen", id="frozen-R"), pytest.param("live", id="live-R", marks=pytest.mark.r)]


def inputs_digest(script_path, inputs: Mapping[str, pd.DataFrame], extra_args: Sequence[str] = ()) -> str:
    digest = hashlib.sha256(Path(script_path).read_bytes())
    for name in sorted(inputs):
        buffer = io.StringIO()
        inputs[name].to_csv(buffer, index=False, float_format="%.17g")
        digest.update(name.encode() + b"\0" + buffer.getvalue().encode() + b"\0")
    digest.update("\0".join(map(str, extra_args)).encode())
    return digest.hexdigest()


def r_reference(script_path, inputs: Mapping[str, pd.DataFrame], source: str, name: str,
                packages: Sequence[str] = (), timeout: float = 300.0,
                extra_args: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
    """R's outputs for `inputs`: run live (source="live") or read from tests/results/<name> (source="frozen")."""
    folder = RESULTS_DIR / name
    digest = inputs_digest(script_path, inputs, extra_args)
    if source == "live":
        reason = r_unavailable_reason(packages)
        if reason:
            pytest.skip(f"R reference unavailable: {reason}")
        outputs = run_r_script(script_path, inputs, timeout=timeout, extra_args=extra_args)
        if os.environ.get(FREEZE_ENV):
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.csv"):
                old.unlink()
            for stem, frame in outputs.items():
                frame.to_csv(folder / f"{stem}.csv", index=False, float_format="%.17g")
            (folder / DIGEST_FILE).write_text(digest + "\n", encoding="utf-8")
        return outputs
    if source != "frozen":
        raise ValueError(f"source must be 'frozen' or 'live', not {source!r}")
    stored = folder / DIGEST_FILE
    if not stored.exists():
        pytest.fail(f"no frozen R results in {folder}: run `make r-results` (needs R) and commit tests/results/")
    if stored.read_text(encoding="utf-8").strip() != digest:
        pytest.fail(f"the frozen R results in {folder} were made from other inputs (the data or the R script "
                    "changed): run `make r-results` (needs R) and commit tests/results/")
    return {path.stem: pd.read_csv(path) for path in sorted(folder.glob("*.csv"))}
