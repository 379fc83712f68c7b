# Guards against a number typed into the README's timing tables: the block between the markers must be exactly what
# benchmarks/readme_timings.py renders from the benchmarks' stored outputs (benchmarks/measured), each of which says
# when, at which commit and on how many cores it ran.
import importlib.util
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("readme_timings", ROOT / "benchmarks" / "readme_timings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_timing_block_is_what_the_stored_benchmark_outputs_give():
    tool = _tool()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert tool.BEGIN in readme and tool.END in readme
    block = readme[readme.index(tool.BEGIN):readme.index(tool.END) + len(tool.END)]
    assert block + "\n" == tool.render(), "README's timing block differs: run benchmarks/readme_timings.py --render"


def test_every_stored_benchmark_output_says_when_where_and_at_which_commit():
    tool = _tool()
    for stored in sorted(tool.RESULTS.glob("*.md")):
        header = stored.read_text(encoding="utf-8").splitlines()[0]
        assert stored.stem in tool.BENCHMARKS, f"{stored.name} is not a benchmark the tool runs"
        assert re.search(r"\d{4}-\d{2}-\d{2}, commit [0-9a-f]{7,}.*, \d+ cores$", header), (stored.name, header)


def test_stored_benchmark_outputs_are_not_ignored_by_git():
    # Once they sat in a git-ignored folder: the README test passed here and failed on every clean clone.
    tool = _tool()
    stored = [str(path.relative_to(ROOT)) for path in sorted(tool.RESULTS.glob("*.md"))]
    assert stored, "no stored benchmark output"
    ignored = subprocess.run(["git", "check-ignore", *stored], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert not ignored, f"git ignores stored benchmark outputs: {ignored}"
