"""Solve the "derived" parameters that make the synthetic cohort reproduce published figures.

Run rarely, by hand, when an assumption changes: `python -m okapi.synthetic.calibration_solver` prints the solved values,
which are then written into okapi.synthetic.parameters (the records stay the one source of truth; the tests in
tests/test_calibration.py check the result on a fresh seed). Newton's method on a large cohort with common random
numbers (a parameter change moves outcomes, not the random streams), with the Jacobian taken by finite differences;
the analogues are averaged over 30 cohorts of 20,000 so that centre effects average out.
R9, R12 and R13 are not solved for: the dose's effect on pain is an assumption (okapi.synthetic.parameters
`pain_per_gram_received`), and these figures fall where it and the biases of the cumulative dose put them.
"""

import numpy as np

from okapi.synthetic.calibration import AIMS, analogue_values, arrays_from_simulation
from okapi.synthetic.parameters import parameter_values
from okapi.synthetic.cohort import simulate_arrays
from okapi.data.targets import load_targets
from okapi.plan import CALIBRATION_SEED

SOLVER_SEED = CALIBRATION_SEED
N_COHORTS = 30
# (parameter, target id it is solved for, scale Newton works on, finite-difference step on that scale). SDs are solved
# as variances (a variance is linear in its contribution and may approach 0), the rate ratio on the log scale.
SOLVED = (
    ("pain_baseline_level", "C2a", "identity", 0.05),
    ("pain_random_intercept_sd", "C2b", "square", 0.05),
    ("pain_change_scale", "R4", "identity", 0.05),
    ("pain_random_slope_sd", "C3b", "square", 0.0005),
    ("dropout_logit_intercept", "C3c", "identity", 0.05),
    ("dropout_log_odds_per_nprs_point", "C3a", "identity", 0.03),
    ("slope_shift_depressed", "R8", "identity", 0.005),
    ("stays_rate_ratio_depressed", "R10", "log", 0.1),
    ("pcs_baseline_mean", "R6a", "identity", 0.5),
    ("pcs_person_sd", "R6b", "square", 5.0),
    ("pcs_change_mean", "R6c", "identity", 0.5),
    ("pcs_change_sd", "R6d", "square", 5.0),
    ("mcs_baseline_mean", "R5a", "identity", 0.5),
    ("mcs_person_sd", "R5b", "square", 5.0),
    ("mcs_change_mean", "R5c", "identity", 0.5),
    ("mcs_change_sd", "R5d", "square", 5.0),
)
_TO_SCALE = {"identity": lambda x: x, "square": lambda x: x * x, "log": np.log}
_FROM_SCALE = {"identity": lambda x: x, "square": lambda x: np.sqrt(max(x, 0.0)), "log": np.exp}


def _aims() -> np.ndarray:
    targets = load_targets().set_index("id")["value"]
    return np.array([AIMS.get(t, (targets[t], ""))[0] for _, t, _, _ in SOLVED], dtype=float)


def _analogues(values: dict, n: int, seed: int) -> np.ndarray:
    """Mean analogue over N_COHORTS cohorts of n / N_COHORTS patients: each cohort draws its own centre effects,
    which one large cohort would not average out."""
    patients, _, follow_up = simulate_arrays(n // N_COHORTS, seed, values, n_cohorts=N_COHORTS)
    found = analogue_values(arrays_from_simulation(patients, follow_up))
    return np.array([np.mean(found[t]) for _, t, _, _ in SOLVED])


def _with_scaled(values: dict, scaled: np.ndarray) -> dict:
    new = dict(values)
    for (name, _, scale, _), x in zip(SOLVED, scaled):
        new[name] = float(_FROM_SCALE[scale](x))
    return new


def solve_calibrated_parameters(n: int = 600_000, seed: int = SOLVER_SEED, iterations: int = 5,
                                verbose: bool = True) -> dict:
    values = dict(parameter_values())
    names = [name for name, _, _, _ in SOLVED]
    steps = np.array([step for _, _, _, step in SOLVED])
    aims = _aims()
    scaled = np.array([_TO_SCALE[scale](values[name]) for name, _, scale, _ in SOLVED], dtype=float)
    base = _analogues(values, n, seed)
    jacobian = np.empty((len(SOLVED), len(SOLVED)))
    for j in range(len(SOLVED)):
        shifted = scaled.copy()
        shifted[j] += steps[j]
        jacobian[:, j] = (_analogues(_with_scaled(values, shifted), n, seed) - base) / steps[j]
    for iteration in range(iterations):
        current = _analogues(values, n, seed)
        error = aims - current
        if verbose:
            worst = int(np.argmax(np.abs(error) / np.maximum(np.abs(aims), 1e-3)))
            print(f"iteration {iteration}: largest relative miss {SOLVED[worst][1]} {current[worst]:.4f} "
                  f"(aim {aims[worst]:.4f})")
        scaled = scaled + np.linalg.solve(jacobian, error)
        values = _with_scaled(values, scaled)
    final = _analogues(values, n, seed)
    if verbose:
        for (name, target, _, _), aim, got in zip(SOLVED, aims, final):
            print(f"{name:34s} = {values[name]: .6g}   {target}: {got: .4f} (aim {aim: .4f})")
    return {name: values[name] for name in names}


if __name__ == "__main__":
    solve_calibrated_parameters()
