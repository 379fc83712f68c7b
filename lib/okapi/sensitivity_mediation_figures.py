"""Figure of the "Mediation, honestly" section: the Imai-Keele-Yamamoto sensitivity curve of each mediation reading."""

import matplotlib.pyplot as plt

from okapi import figures  # noqa: F401  (the book's shared rcParams)
from okapi.report import fmt_number
from okapi.sensitivity_mediation import MEDIATION_READINGS, MediationReadingsResults, reading_labels

UNITS = {"published": "NPRS points per month per gram", "change": "NPRS points per month per gram",
         "time": "NPRS points per month of follow-up"}


def plot_sensitivity_curves(results: MediationReadingsResults):
    """Indirect effect against rho, the correlation of the mediator's and the outcome's errors (0 = no unmeasured
    mediator-outcome confounding), one panel per reading: the estimate with its bootstrap 95% CI at rho = 0, and the
    rho at which the curve crosses zero."""
    labels = reading_labels(results)
    fig, axes = plt.subplots(1, len(MEDIATION_READINGS), figsize=(11, 4.2))
    for ax, key in zip(axes, MEDIATION_READINGS):
        reading = results.readings[key]
        curve, row = reading.curve, reading.estimates.loc["indirect"]
        ax.plot(curve.rho, curve.indirect, color="C0", lw=1.6)
        ax.axhline(0, color="0.4", lw=0.8)
        ax.axvline(curve.rho_at_zero, color="C3", lw=1, ls="--",
                   label=f"indirect effect = 0 at \u03c1 = {fmt_number(curve.rho_at_zero, 2)}")
        spread = [[row["estimate"] - row["ci_low"]], [row["ci_high"] - row["estimate"]]]
        ax.errorbar([0.0], [row["estimate"]], yerr=spread,
                    fmt="o", color="black", ms=4, capsize=2, label="estimate at \u03c1 = 0 (bootstrap 95% CI)")
        ax.set_title(f"{labels[key]}\n({UNITS[key]})", fontsize=8.5)
        ax.set_xlabel("\u03c1 (mediator-outcome error correlation)")
        ax.set_ylabel("Indirect effect")
        ax.legend(frameon=False, fontsize=7, loc="best")
    fig.tight_layout()
    return fig
