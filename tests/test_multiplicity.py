# Guards against a multiplicity correction that flatters or punishes: Holm computed wrongly (checked against
# statsmodels), families that leak into each other, and printed P values read at their most favourable value.
import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from okapi.plan import MULTIPLICITY_ALPHA, MULTIPLICITY_FAMILIES
from okapi.verdicts import multiplicity
from okapi.verdicts.ledger import printed_targets


def test_double_programming_holm_matches_statsmodels():
    rng = np.random.default_rng(2)
    for size in (1, 2, 5, 12):
        p = rng.random(size) ** 3
        assert multiplicity.holm(p) == pytest.approx(multipletests(p, method="holm")[1], rel=1e-12)


def test_holm_on_a_hand_computed_case():
    # sorted .01, .02, .04 -> 3 x .01 = .03, 2 x .02 = .04, 1 x .04 = .04 (monotone)
    assert multiplicity.holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])


def test_families_are_corrected_apart_and_printed_p_is_read_at_its_largest():
    table = multiplicity.family_table(printed_targets(), {})
    assert sorted(table["id"]) == sorted(t for ids in MULTIPLICITY_FAMILIES.values() for t in ids)
    primary = table[table["family"] == "primary"]
    # two tests printed "<.001": each read as .001, Holm x2 -> .002 (not x9, the number of all tests)
    assert list(primary["published_holm"]) == pytest.approx([0.002, 0.002])
    r6c = table.set_index("id").loc["R6c"]  # printed .02 stands for up to .025; 3 tests in its family
    assert r6c["published_holm"] >= 0.025 and r6c["published_survives"] == (r6c["published_holm"] < MULTIPLICITY_ALPHA)
    # without reproduced P values nothing is claimed to survive on the reproduced side
    assert not table["reproduced_survives"].any()
