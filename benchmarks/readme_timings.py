"""The README's timing tables, regenerated from the benchmarks instead of typed.

Runs each benchmark below as a reviewer would (`.venv/bin/python benchmarks/NAME.py ARGS`), stores what it printed in
benchmarks/measured/NAME.md under a header saying when, at which commit and on how many cores it ran, and rewrites the
README's block between the two markers from those files. tests/test_readme_timings_come_from_benchmarks.py checks
that the block is exactly what the stored results give, so a number typed into it fails the tests.

Run: .venv/bin/python benchmarks/readme_timings.py            every benchmark below, then the README block
     .venv/bin/python benchmarks/readme_timings.py NAME ...   only those (the others' stored results stay)
     .venv/bin/python benchmarks/readme_timings.py --render   only rewrite the README block from the stored results
"""

import datetime
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "measured"
BEGIN, END = "<!-- benchmark-results: begin (benchmarks/readme_timings.py writes this block) -->", \
    "<!-- benchmark-results: end -->"

# name -> (arguments, what it measures). The order is the README's.
BENCHMARKS = {
    "bench_book": ((), "the book's pipeline in a fresh clone: `make` (venv, install, build), `make` again, `make` "
                       "after a prose edit, `make outputs`, `make pdf`, `make test`"),
    "bench_lmm_batch": ((), "one REML fit of the pain model: statsmodels against the vectorised okapi.models.lmm_batch"),
    "bench_models": ((), "one mixed-model fit and 5,000 mediation bootstrap resamples: Python against R (lme4, boot)"),
    "bench_analyze": ((), "`okapi analyze` on the committed cohort, step by step"),
    "bench_scale": ((), "`okapi analyze` on generated cohorts of 329 to 10,000 patients: time, peak memory, growth "
                        "exponent; the primary fit by lmm_batch beside statsmodels at each size"),
    "bench_trajectories": ((), "the trajectory grid K = 1..5 with 30 starts: numpy against R flexmix"),
    "bench_sensitivity_missing": ((), "the missing-data section of the sensitivity chapter, part by part"),
    "bench_sensitivity_mediation": ((), "the mediation readings of the sensitivity chapter"),
    "bench_sensitivity_centres": ((), "the centres section of the sensitivity chapter"),
    "bench_sensitivity_trajectories": ((), "the trajectory-settings section of the sensitivity chapter"),
    "bench_sensitivity_assumptions": ((), "the assumptions sweep of the sensitivity chapter"),
    "bench_sensitivity_reviewer": ((), "the reviewer's sections of the sensitivity chapter, and the fits they rest "
                                       "on by lmm_batch and statsmodels"),
    "bench_simulation_study": ((), "one replicate of the simulation-study appendix, step by step"),
    "bench_chapters": ((), "re-executing the sensitivity chapter and the simulation-study appendix alone, as a "
                           "reviewer's rerun does"),
    "bench_engine": ((), "simulation-study replicates per second on 1 and 2 local workers and on a Dask LocalCluster"),
}


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def run(name: str) -> None:
    arguments, _ = BENCHMARKS[name]
    script = next((path for path in (ROOT / "benchmarks" / f"{name}{suffix}" for suffix in (".py", ".sh"))
                   if path.exists()), None)
    if script is None:
        raise SystemExit(f"error: benchmarks/{name}.py (or .sh) does not exist")
    command = [sys.executable if script.suffix == ".py" else "bash", str(script), *arguments]
    printed = subprocess.run(command, cwd=ROOT / "benchmarks", capture_output=True, text=True, check=True).stdout
    commit = _git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if _git("status", "--porcelain",
                                                                                             "--", "lib") else "")
    header = (f"`benchmarks/{script.name}{''.join(' ' + a for a in arguments)}`, "
              f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d}, commit {commit}, {os.cpu_count()} cores")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(f"{header}\n\n{printed.rstrip()}\n", encoding="utf-8")


def render() -> str:
    """The README block from the stored results: per benchmark, what it measures, when and where it ran, and what it
    printed (Markdown tables as they are, other tables as preformatted text)."""
    parts = [BEGIN]
    for name, (_, what) in BENCHMARKS.items():
        stored = RESULTS / f"{name}.md"
        if not stored.exists():
            parts.append(f"**`benchmarks/{name}`** ({what}): not run yet.")
            continue
        header, _, printed = stored.read_text(encoding="utf-8").partition("\n\n")
        markdown = printed.lstrip().startswith("|")
        parts.append(f"**{what[0].upper() + what[1:]}.** {header}:")
        parts.append(printed.rstrip() if markdown else "```text\n" + printed.rstrip() + "\n```")
    parts.append(END)
    return "\n\n".join(parts) + "\n"


def rewrite_readme() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"error: README.md lacks the markers {BEGIN!r} and {END!r}")
    before, rest = text.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    readme.write_text(before + render().rstrip("\n") + after, encoding="utf-8")


def main(arguments: list[str]) -> None:
    if arguments != ["--render"]:
        unknown = [a for a in arguments if a not in BENCHMARKS]
        if unknown:
            raise SystemExit(f"error: unknown benchmarks {unknown}; known: {', '.join(BENCHMARKS)}")
        for name in arguments or BENCHMARKS:
            print(f"running {name} ...", flush=True)
            run(name)
    rewrite_readme()


if __name__ == "__main__":
    main(sys.argv[1:])
