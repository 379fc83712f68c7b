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
