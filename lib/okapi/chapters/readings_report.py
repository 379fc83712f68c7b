"""What the methods and sensitivity chapters show of the readings search (okapi.chapters.readings): the table of
readings x checks with the joint fit, a heatmap of it, the details of what each check found, the time-unit and split
table of R8, and the glued sentences that name the primary reading."""

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from okapi.book.report import fmt_number, fmt_p
from okapi.book.theme import book_theme, colours, figure_size, finish
from okapi.chapters.readings import CHECKS, MET, NOT_APPLICABLE, NOT_MET, READINGS, ReadingsSearch
from okapi.plan import PRIMARY_READING, READING_SE_FACTOR

SYMBOLS = {MET: "\u2713 met", NOT_MET: "\u2717 not met", NOT_APPLICABLE: "\u2013 not applicable"}
CHECK_LABELS = {"R9 unit": "R9's n", "R10 unit": "R10's n", "R11 precision": "R11's SE", "R12 precision": "R12's SE",
                "R13 arithmetic": "R13 reachable", "R8 = R11": "R8 = R11"}
BY_KEY = {reading.key: reading for reading in READINGS}


def _fit_text(search: ReadingsSearch, key: str) -> str:
    outcomes = search.outcomes.loc[key]
    applicable = int((outcomes != NOT_APPLICABLE).sum())
    return f"{int((outcomes == MET).sum())} of {applicable}"


def _best_first(search: ReadingsSearch) -> list[str]:
    """Reading keys by joint fit, best first (ties in the readings' order): the row order of both tables."""
    return list(search.fit.sort_values(ascending=False, kind="stable").index)


def _reading_name(key: str) -> str:
    return f"{key}: {BY_KEY[key].label}" + (" (primary)" if key == PRIMARY_READING else "")


def readings_table(search: ReadingsSearch) -> pd.DataFrame:
    """One row per reading, best fit first: each check as symbol and word, and the joint fit. What each reading
    takes as dose, depression and pain diminution is in roles_table (two tables fit the text column, one did not)."""
    rows = []
    for key in _best_first(search):
        row = {"Reading": _reading_name(key)}
        row.update({CHECK_LABELS[c]: SYMBOLS[search.outcomes.loc[key, c]] for c in CHECKS})
        row["Joint fit"] = _fit_text(search, key)
        rows.append(row)
    return pd.DataFrame(rows)


def roles_table(search: ReadingsSearch) -> pd.DataFrame:
    """One row per reading, in readings_table's order: what it takes as dose (X), depression (M) and pain
    diminution (Y)."""
    return pd.DataFrame([{"Reading": _reading_name(key), "Dose (X)": BY_KEY[key].exposure,
                          "Depression (M)": BY_KEY[key].mediator, "Pain diminution (Y)": BY_KEY[key].outcome}
                         for key in _best_first(search)])


def details_table(search: ReadingsSearch) -> pd.DataFrame:
    """What each check found, reading by reading (checks as rows, so the table fits the column)."""
    frame = search.found.T.rename(index=CHECK_LABELS)
    frame.columns = [f"{key}: {BY_KEY[key].label}" for key in frame.columns]
    return frame.reset_index().rename(columns={"index": "Check"})


def r8_table(codings: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Depression": codings["depression"], "Time unit": codings["time unit"],
        "Coefficient": [fmt_number(v, 4) for v in codings["estimate"]],
        "SE": [fmt_number(v, 4) for v in codings["se"]],
        "SE R8's CI allows": [f"{fmt_number(low, 4)} to {fmt_number(high, 4)}"
                              for low, high in zip(codings["published_se_low"], codings["published_se_high"])],
        "Precision": [SYMBOLS[v] for v in codings["precision"]],
        "P": [fmt_p(v) for v in codings["p"]],
        "P compatible with R8's": [SYMBOLS[v] for v in codings["p_claim"]]})


def plot_readings(search: ReadingsSearch):
    """Heatmap of readings (rows, best first) x checks (columns): met, not met, not applicable, with the symbol in
    each cell so that colour is never the only carrier."""
    order = list(search.fit.sort_values(ascending=False, kind="stable").index)
    codes = {NOT_MET: 0, NOT_APPLICABLE: 1, MET: 2}
    matrix = search.outcomes.loc[order, list(CHECKS)].replace(codes).astype(float)
    palette = colours(3)
    cmap = [palette[1], (0.9, 0.9, 0.9), palette[0]]  # orange = not met, grey = not applicable, blue = met
    labels = search.outcomes.loc[order, list(CHECKS)].replace(
        {MET: "\u2713", NOT_MET: "\u2717", NOT_APPLICABLE: "\u2013"}).to_numpy()
    with book_theme():
        fig, ax = plt.subplots(figsize=figure_size(2.8))
        sns.heatmap(matrix, ax=ax, cmap=cmap, vmin=-0.5, vmax=2.5, cbar=False, annot=labels, fmt="",
                    linewidths=1.0, linecolor="white", annot_kws={"fontsize": 10})
        ax.set_xticklabels([CHECK_LABELS[c].replace(" ", "\n", 1) for c in CHECKS], rotation=0)
        ax.set_yticklabels([f"{k}: {BY_KEY[k].label} ({_fit_text(search, k)})" for k in order], rotation=0)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(length=0)
    best = order[0]
    alt = (f"Grid of {len(order)} readings of the published mediation model against {len(CHECKS)} checks of the "
           f"published figures; each cell is a tick (met), a cross (not met) or a dash (not applicable). Reading "
           f"{best} ({BY_KEY[best].label}) meets {_fit_text(search, best)} of its checks, the most of any reading.")
    return finish(fig, alt)


def glued_texts(search: ReadingsSearch, codings: pd.DataFrame) -> dict[str, str]:
    best = search.best
    ranked = search.fit.sort_values(ascending=False, kind="stable")
    runner_up = ranked.index[1]
    per_year = codings[codings["time unit"] == "per year"]
    per_month = codings[codings["time unit"] == "per month"]
    return {
        "readings_n": str(len(READINGS)), "readings_n_checks": str(len(CHECKS)),
        "readings_best": f"{best} ({BY_KEY[best].label})", "readings_best_fit": _fit_text(search, best),
        "readings_runner_up": f"{runner_up} ({BY_KEY[runner_up].label})",
        "readings_runner_up_fit": _fit_text(search, runner_up),
        "readings_primary": f"{PRIMARY_READING} ({BY_KEY[PRIMARY_READING].label})",
        "readings_primary_agrees": ("the reading the analysis plan names as primary" if best == PRIMARY_READING
                                    else f"not the plan's primary reading {PRIMARY_READING}: the plan must be revised"),
        "readings_consistency": ("At least one reading meets every check it is open to." if search.fit.max() == 1
                                 else "No reading meets every check it is open to: under each reading tried here, "
                                      "some published figures cannot hold together with the others."),
        "readings_se_factor": f"{fmt_number(READING_SE_FACTOR, 0)}",
        "readings_r8_month_met": str(int((per_month["precision"] == MET).sum())),
        "readings_r8_year_met": str(int((per_year["precision"] == MET).sum())),
        "readings_r8_n_codings": str(len(per_month)),
        "readings_r8_both": "; ".join(f"{row['depression']} {row['time unit']}"
                                      for _, row in codings.iterrows()
                                      if row["precision"] == MET and row["p_claim"] == MET) or "none",
    }

