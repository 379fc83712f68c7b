# Guards the analysis plan (okapi.plan) as the one place for analysis choices: a HADS cut-off compared against a typed
# number in a library module, a seed typed again outside the plan, a chapter's prose saying "HADS-D > 7" in words the
# build cannot change, and the generator or the calibration reading the *analysis* cut-off (they must keep the
# paper's, whatever an analysis rerun chooses).
import ast
import re

import pytest

from okapi import paths, plan

CUTOFFS = {plan.HADS_D_CUTOFF, plan.HADS_STRICT_CUTOFF, plan.PUBLISHED_HADS_D_CUTOFF}
SEEDS = {c.value for c in plan.CHOICES.values() if c.name.endswith("SEED") and isinstance(c.value, int)
         and c.value > 1000}
# Prose that states a cut-off in words: "HADS-D > 7", "HADS-D above 7", "HADS-A $> 10$", "at most 7".
TYPED_CUTOFF = re.compile(r"HADS(?:-[DA])?\s*(?:\$?\s*(?:>|<=|≤|\\le|\\gt)\s*\$?|above|at most|over)\s*\$?\s*(\d+)")


def library_files():
    return [p for p in sorted(paths.LIB_DIR.rglob("*.py")) if p.name != "plan.py"]


def cutoff_comparisons(source: str) -> list[int]:
    """Lines where a HADS column or score is compared with a typed cut-off (`hads_d0 > 7`)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            typed = [o for o in operands if isinstance(o, ast.Constant) and o.value in CUTOFFS]
            about_hads = "hads" in ast.unparse(node).lower() or "depress" in ast.unparse(node).lower()
            if typed and about_hads:
                lines.append(node.lineno)
    return lines


def typed_seeds(source: str) -> list[int]:
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, int) and node.value in SEEDS]


def prose_cutoffs(text: str) -> list[str]:
    """Typed cut-offs in a chapter's Markdown (code cells, inline code and glue roles excluded)."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    prose = re.sub(r"\{[\w:]+\}`[^`]*`|`[^`]*`", "", prose)
    return [m.group(0) for m in TYPED_CUTOFF.finditer(prose)]


def test_no_library_module_compares_a_hads_score_with_a_typed_cutoff():
    found = {str(p.relative_to(paths.LIB_DIR)): lines for p in library_files()
             if (lines := cutoff_comparisons(p.read_text(encoding="utf-8")))}
    assert found == {}, "compare with okapi.plan.HADS_D_CUTOFF (analysis) or PUBLISHED_HADS_D_CUTOFF (generator)"


def test_no_library_module_types_a_seed_of_the_plan_again():
    found = {str(p.relative_to(paths.LIB_DIR)): lines for p in library_files()
             if (lines := typed_seeds(p.read_text(encoding="utf-8")))}
    assert found == {}, "take the seed from okapi.plan"


@pytest.mark.parametrize("page", sorted(paths.CHAPTERS_DIR.glob("*.md")) + [paths.FRONT_PAGE_SOURCE],
                         ids=lambda p: p.name)
def test_no_chapter_types_a_hads_cutoff_in_its_prose(page):
    assert prose_cutoffs(page.read_text(encoding="utf-8")) == [], "glue the cut-off (e.g. {glue:text}`dep_cutoff`)"


def test_the_checks_catch_what_they_look_for():
    assert cutoff_comparisons("depressed = hads_d0 > 7\nx = month > 7\n") == [1]
    assert typed_seeds(f"rng = default_rng({plan.TRAJECTORY_SEED})\n") == [1]
    assert prose_cutoffs("split at HADS-D > 7 and HADS-A above 10; {glue:text}`dep_cutoff`") == ["HADS-D > 7",
                                                                                                   "HADS-A above 10"]
    assert prose_cutoffs("$D_i = 1$ if HADS-D $> 7$") == ["HADS-D $> 7"]


def test_generator_and_calibration_use_the_papers_cutoff_not_the_analysis_one():
    for folder in ("synthetic",):
        for path in sorted((paths.LIB_DIR / folder).glob("*.py")):
            names = {n.id for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Name)}
            assert "HADS_D_CUTOFF" not in names, f"{path.name} reads the analysis cut-off"


def test_settings_refuse_an_unknown_name_and_keep_the_rest_at_their_defaults():
    settings = plan.SensitivitySettings.from_parameters({"n_imputations": 5, "tipping_deltas": [0.0, 1.0]})
    assert settings.n_imputations == 5 and settings.tipping_deltas == (0.0, 1.0)
    assert settings.seed == plan.SensitivitySettings().seed
    with pytest.raises(ValueError, match="n_imputation"):
        plan.SensitivitySettings.from_parameters({"n_imputation": 5})
    with pytest.raises(ValueError, match="unknown SimulationStudySettings"):
        plan.SimulationStudySettings.from_parameters({"n_bootstrap": 5})
    table = settings.table()
    assert list(table.columns) == ["Setting", "Value", "Default", "Why"]
    assert table["Why"].str.len().min() > 5, "every setting carries its reason"


def test_every_plan_choice_carries_a_reason():
    assert all(len(choice.reason) > 10 for choice in plan.CHOICES.values())
    assert set(plan.plan_table()["Kind"]) == {"published design", "analysis"}
