"""Figure of the "Mediation, honestly" section: the Imai-Keele-Yamamoto sensitivity curve of each mediation reading. It
draws with seaborn under the book's theme and returns a Figure carrying its alt text (okapi.book.theme)."""

import matplotlib.pyplot as plt
import seaborn as sns

from okapi.book.report import and_list, fmt_number
from okapi.book.theme import book_theme, colours, figure_size, finish
from okapi.sensitivity.mediation import MEDIATION_READINGS, MediationReadingsResults, reading_labels

UNITS = {"published": "NPRS points per month per gram", "change": "NPRS points per month per gram",
         "time": "NPRS points per month of follow-up"}
TITLE_CHARACTERS = 80  # what one line of a 9 pt title holds at the text width


def plot_sensitivity_curves(results: MediationReadingsResults):
    """Indirect effect against rho, the correlation of the mediator's and the outcome's errors (0 = no unmeasured
    mediator-outcome confounding), one panel per reading: the estimate with its bootstrap 95% CI at rho = 0, and the
    rho at which the curve crosses zero."""
    labels = reading_labels(results)
    curve_colour, zero_colour = colours(2)
    with book_theme():
        # One panel per row: at the text width, side-by-side panels would squeeze the readings' long titles.
        fig, axes = plt.subplots(len(MEDIATION_READINGS), 1, figsize=figure_size(1.9 * len(MEDIATION_READINGS)),
                                 sharex=True, squeeze=False)
        crossings = []
        for ax, key in zip(axes[:, 0], MEDIATION_READINGS):
            reading = results.readings[key]
            curve, row = reading.curve, reading.estimates.loc["indirect"]
            ax.axhline(0, color="0.4", lw=0.8)
            sns.lineplot(x=curve.rho, y=curve.indirect, color=curve_colour, lw=1.6, errorbar=None, ax=ax)
            ax.axvline(curve.rho_at_zero, color=zero_colour, lw=1.2, ls="--",
                       label=f"indirect effect = 0 at \u03c1 = {fmt_number(curve.rho_at_zero, 2)}")
            spread = [[row["estimate"] - row["ci_low"]], [row["ci_high"] - row["estimate"]]]
            ax.errorbar([0.0], [row["estimate"]], yerr=spread, fmt="none", ecolor="black", elinewidth=1, capsize=2)
            sns.scatterplot(x=[0.0], y=[row["estimate"]], color="black", s=20, zorder=3,
                            label="estimate at \u03c1 = 0 (bootstrap 95% CI)", ax=ax)
            title = f"{labels[key]} ({UNITS[key]})"
            ax.set_title(title if len(title) <= TITLE_CHARACTERS else f"{labels[key]}\n({UNITS[key]})", loc="left")
            ax.set_ylabel("Indirect effect")
            ax.legend(frameon=False, loc="best")
            crossings.append(f"{fmt_number(curve.rho_at_zero, 2)} ({labels[key]})")
        axes[-1, 0].set_xlabel("\u03c1 (mediator-outcome error correlation)")
        rho = results.readings[MEDIATION_READINGS[0]].curve.rho
        alt = (f"Line charts, one per reading of the mediation model, of the indirect effect "
               f"against \u03c1, the correlation of the mediator's and the outcome's errors, from "
               f"{fmt_number(min(rho), 1)} to {fmt_number(max(rho), 1)}, with the estimate and its bootstrap 95% CI "
               f"at \u03c1 = 0. The indirect effect is 0 at \u03c1 = {and_list(crossings)}.")
        return finish(fig, alt)
