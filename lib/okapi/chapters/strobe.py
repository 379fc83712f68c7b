"""The STROBE checklist for cohort studies, item by item, with where this book answers each item.

Each item is paraphrased in a few words of our own (the official wording is in von Elm et al. 2007). `places` are
cross-reference targets of the book: a section label (`(label)=`), or a figure or table name (`fig-...`, `tbl-...`),
optionally with a shown title as in Sphinx (`"Pain: caveats <sec-pain-caveats>"`). An item the book cannot answer
has no place and says why in its note. tests/test_strobe_checklist.py checks that every place exists in the book.
"""

import re
from dataclasses import dataclass

import pandas as pd

ADDRESSED = "addressed"
PARTLY = "partly"
NOT_ADDRESSED = "not addressed"
NOT_APPLICABLE = "not applicable"
STATUSES = (ADDRESSED, PARTLY, NOT_ADDRESSED, NOT_APPLICABLE)

# Figures and tables are numbered, so they are cited by number; sections by their title.
NUMBERED_PREFIXES = ("fig-", "tbl-")
_TITLED = re.compile(r"^(?P<title>.+?)\s*<(?P<label>[^<>]+)>$")

# Labels that the sensitivity and simulation chapters will define (mapped already; the test reports them missing
# until those chapters are in the table of contents).
SENSITIVITY = "sec-sensitivity"
SIMULATION_STUDY = "sec-simulation-study"

CAVEATS = ("Methods: caveats <sec-methods-caveats>", "Cohort: caveats <sec-cohort-caveats>",
           "Pain: caveats <sec-pain-caveats>", "Depression: caveats <sec-depression-caveats>",
           "Trajectories: caveats <sec-trajectories-caveats>", "Mediation: caveats <sec-mediation-caveats>",
           "Adverse effects: caveats <sec-adverse-effects-caveats>")


@dataclass(frozen=True)
class ChecklistItem:
    item: str  # "12e"
    topic: str
    asks: str  # the item in our words
    status: str  # one of STATUSES
    places: tuple[str, ...]  # labels, optionally "Title <label>"
    note: str  # how the book answers it, or why it cannot


def _item(item, topic, asks, status, places, note) -> ChecklistItem:
    return ChecklistItem(item, topic, asks, status, tuple(places), note)


CHECKLIST: tuple[ChecklistItem, ...] = (
    _item("1a", "Title and abstract", "Name the study design in the title or abstract.",
          ADDRESSED, ["Front page: abstract <sec-abstract>", "sec-methods-design"],
          "The book's title calls it a re-analysis of the OKAPI cohort; the abstract and the methods name the design "
          "(multicentre prospective cohort)."),
    _item("1b", "Title and abstract", "Give a balanced summary of what was done and found.",
          ADDRESSED, ["Front page: abstract <sec-abstract>", "fig-published-vs-reproduced", "tbl-ledger",
                      "tbl-statements"],
          "The front page opens with a structured abstract (background, methods, results, conclusions) whose every "
          "number is computed: what was reproduced, and how many of the paper's conclusions are supported, "
          "contradicted or not assessable under the sensitivity analyses. A figure and the ledger then set every "
          "published figure and statement beside its reproduction."),
    _item("2", "Background", "Explain the scientific background and why the study was done.",
          PARTLY, ["sec-methods-design"],
          "The clinical background is the papers'; the book's own rationale, re-running the published analyses, is "
          "given on the front page."),
    _item("3", "Objectives", "State the objectives and any prespecified hypotheses.",
          ADDRESSED, ["chapter-pain", "chapter-depression", "chapter-trajectories", "chapter-mediation",
                      "chapter-adverse-effects"],
          "Each results chapter opens with its question, taken from the papers' findings; this book registered no "
          "hypotheses of its own."),
    _item("4", "Study design", "Present the key elements of the design early.",
          ADDRESSED, ["sec-methods-design"], "Prospective multicentre cohort followed monthly for one year."),
    _item("5", "Setting", "Describe the setting, locations and the dates of recruitment, exposure, "
          "follow-up and data collection.",
          PARTLY, ["sec-methods-design", "chapter-cohort"],
          "French pain clinics and the number of centres are given; the dates of recruitment and follow-up of the "
          "original study are not stated in this book."),
    _item("6a", "Participants", "Give the eligibility criteria, how participants were selected and how "
          "they were followed.",
          ADDRESSED, ["sec-methods-design"],
          "Inclusion criteria of the registry; follow-up by a monthly telephone call from month 0 to month 12."),
    _item("6b", "Participants", "For matched studies, give the matching criteria and the numbers "
          "exposed and unexposed.",
          NOT_APPLICABLE, [], "The cohort is not matched."),
    _item("7", "Variables", "Define every outcome, exposure, predictor, confounder and effect modifier.",
          ADDRESSED, ["sec-methods-design", "chapter-depression", "chapter-mediation"],
          "Outcomes and exposure in the methods; the depression split (HADS-D above 7) and the mediation model's "
          "exposure, mediator and outcome in their chapters. No confounders are adjusted for, as in the papers."),
    _item("8", "Data sources and measurement", "Say how each variable was measured, and whether the "
          "measurement was the same in the groups compared.",
          PARTLY, ["sec-methods-design", "sec-synthetic-cohort"],
          "Scales and schedule of the study are described; the values analysed here are synthetic, generated from "
          "the documented model unless a real extract is supplied."),
    _item("9", "Bias", "Describe what was done about potential sources of bias.",
          PARTLY, ["sec-cohort-follow-up", "sec-statistical-analysis", SENSITIVITY],
          "Attrition is described and the models use every recorded score (valid under missing at random); the "
          "sensitivity chapter tests what each conclusion depends on. Selection of the patients cannot be examined "
          "here."),
    _item("10", "Study size", "Explain how the study size was arrived at.",
          PARTLY, ["sec-synthetic-cohort", "tbl-sampling-noise"],
          "No size calculation of the original study was available to us. The synthetic cohort has the published "
          "size, and the methods show how far a cohort of that size scatters around the published figures."),
    _item("11", "Quantitative variables", "Say how quantitative variables were handled and why any "
          "grouping was chosen.",
          ADDRESSED, ["chapter-pain", "chapter-depression", "fig-pain-by-hads-score", "chapter-mediation"],
          "Time in years for the fit and per month for reporting; HADS-D both split at 7 (the paper's) and as a "
          "score; the dose in grams."),
    _item("12a", "Statistical methods", "Describe every statistical method, including control of "
          "confounding.",
          ADDRESSED, ["sec-statistical-analysis", SIMULATION_STUDY, "sec-sensitivity-confounding"],
          "Each chapter states its model in full; key estimates are checked by a second route (R, or simulated "
          "cohorts with a known truth). The papers' models are unadjusted; the sensitivity chapter adjusts the "
          "depression comparison for inclusion characteristics and centre and gives its E-value."),
    _item("12b", "Statistical methods", "Describe the methods for subgroups and interactions.",
          ADDRESSED, ["chapter-depression", "tbl-depression-models"],
          "Time by baseline depression interaction, linear and with time as categories (omnibus Wald test)."),
    _item("12c", "Statistical methods", "Explain how missing data were handled.",
          ADDRESSED, ["chapter-pain", "sec-cohort-follow-up", SENSITIVITY],
          "Mixed models and mixtures use every recorded score (missing at random); alternatives in the sensitivity "
          "analyses."),
    _item("12d", "Statistical methods", "Explain how loss to follow-up was addressed.",
          ADDRESSED, ["sec-cohort-follow-up", "fig-missing-patterns", "sec-sensitivity-dropout"],
          "Monotone dropout and intermittent missed calls are counted; the same models cover both. Dropout not at "
          "random: tipping-point shifts, a pattern-mixture model by dropout time, and retention weights for the "
          "mediation subset."),
    _item("12e", "Statistical methods", "Describe any sensitivity analyses.",
          ADDRESSED, [SENSITIVITY, "tbl-traj-fit"],
          "A chapter of sensitivity analyses; the trajectory chapter also fits censored-normal and random-intercept "
          "variants."),
    _item("13a", "Participants", "Report the numbers at each stage: eligible, included, followed up, "
          "analysed.",
          PARTLY, ["chapter-cohort", "fig-answers-by-month"],
          "Included patients and those answering each month are given, and each chapter states how many it "
          "analyses; patients screened and eligible were not published."),
    _item("13b", "Participants", "Give the reasons for non-participation at each stage.",
          NOT_ADDRESSED, [], "The data hold no reason for a missed call or for leaving the study."),
    _item("13c", "Participants", "Consider a flow diagram.",
          PARTLY, ["fig-missing-patterns"],
          "No flow diagram; the patterns of answered and missed calls take its place for follow-up."),
    _item("14a", "Descriptive data", "Describe the participants and the exposures and potential "
          "confounders.",
          ADDRESSED, ["tbl-cohort-characteristics", "tbl-concomitant-treatments", "chapter-mediation"],
          "Characteristics at inclusion by depressive symptoms, concomitant treatments, and the cumulative dose."),
    _item("14b", "Descriptive data", "Give the number of participants with missing data for each "
          "variable.",
          ADDRESSED, ["tbl-cohort-characteristics"], "A Missing column for each characteristic."),
    _item("14c", "Descriptive data", "Summarise the follow-up time.",
          PARTLY, ["fig-answers-by-month", "sec-cohort-follow-up"],
          "Answers at each monthly call and the dropout patterns; no single summary of follow-up time."),
    _item("15", "Outcome data", "Report outcome events or summary measures over time.",
          ADDRESSED, ["tbl-pain-by-month", "fig-pain-over-year", "tbl-adverse-effects-monthly"],
          "Monthly pain and monthly adverse effects, with the patients answering."),
    _item("16a", "Main results", "Give unadjusted and adjusted estimates with their precision, and "
          "which confounders were adjusted for and why.",
          PARTLY, ["tbl-pain-model", "tbl-depression-models", "tbl-mediation-paths"],
          "Every estimate has a 95% CI; the models are the papers' unadjusted ones, since no adjustment set was "
          "published."),
    _item("16b", "Main results", "Report category boundaries when a continuous variable was grouped.",
          ADDRESSED, ["chapter-depression", "tbl-traj-classes"],
          "HADS-D above 7 versus 7 or less; trajectory classes defined by the model, not by cut-offs."),
    _item("16c", "Main results", "Translate relative risks into absolute risks where relevant.",
          ADDRESSED, ["tbl-adverse-effects-monthly"],
          "The odds ratios of the adverse-effect course are shown beside the monthly shares themselves."),
    _item("17", "Other analyses", "Report other analyses: subgroups, interactions, sensitivity "
          "analyses.",
          ADDRESSED, [SENSITIVITY, "fig-pain-by-hads-score", "tbl-traj-fit", "tbl-mediation-routes"],
          "Sensitivity analyses; HADS-D as a score; alternative trajectory models; a second mediation route."),
    _item("18", "Key results", "Summarise the key results with reference to the objectives.",
          ADDRESSED, ["tbl-ledger", "tbl-statements"],
          "The reproduction ledger on the front page: each published finding and whether it was reproduced."),
    _item("19", "Limitations", "Discuss limitations: sources of bias or imprecision, their "
          "direction and size.",
          ADDRESSED, list(CAVEATS), "Every chapter ends with its caveats."),
    _item("20", "Interpretation", "Give a cautious overall interpretation.",
          PARTLY, ["sec-mediation-meaning", *CAVEATS[:1]],
          "The book interprets what reproduces and what a baseline 'mediator' can mean; it has no overall clinical "
          "discussion."),
    _item("21", "Generalisability", "Discuss how far the results apply beyond the study.",
          NOT_ADDRESSED, [],
          "On synthetic data the results say nothing about patients; with a real extract, generalisability is the "
          "original study's question and is not discussed here."),
    _item("22", "Funding", "Give the funding and the funders' role, for this study and the "
          "original one.",
          NOT_ADDRESSED, [],
          "This re-analysis states no funding, and the original study's funding was not among the sources available "
          "to us (the papers' abstracts)."),
)


def place_label(place: str) -> str:
    """The label of a place: 'Pain: caveats <sec-pain-caveats>' -> 'sec-pain-caveats'."""
    titled = _TITLED.match(place)
    return titled["label"] if titled else place


def is_numbered(label: str) -> bool:
    return label.startswith(NUMBERED_PREFIXES)


def place_reference(place: str) -> str:
    """A MyST cross-reference: {numref} for a figure or table (cited by number), {ref} for a section."""
    label = place_label(place)
    return f"{{numref}}`{label}`" if is_numbered(label) else f"{{ref}}`{place}`"


def mapped_labels(items=CHECKLIST) -> dict[str, list[str]]:
    """{label: the items that point to it}."""
    labels: dict[str, list[str]] = {}
    for entry in items:
        for place in entry.places:
            labels.setdefault(place_label(place), []).append(entry.item)
    return labels


def status_counts(items=CHECKLIST) -> dict[str, int]:
    return {status: sum(entry.status == status for entry in items) for status in STATUSES}


def checklist_table(items=CHECKLIST) -> pd.DataFrame:
    """The checklist as the appendix prints it, one row per item."""
    return pd.DataFrame([{
        "Item": entry.item,
        "Topic": entry.topic,
        "The item asks": entry.asks,
        "Where in this book": "; ".join(place_reference(place) for place in entry.places) or "-",
        # The status leads the note (a column of its own is too narrow to read in the PDF).
        "Status: how, or why not": f"**{entry.status.capitalize()}.** {entry.note}",
    } for entry in items])


def glued_text(items=CHECKLIST) -> dict[str, str]:
    counts = status_counts(items)
    return {
        "strobe_n_items": str(len({entry.item.rstrip("abcde") for entry in items})),
        "strobe_n_rows": str(len(items)),
        **{f"strobe_n_{status.replace(' ', '_')}": str(count) for status, count in counts.items()},
    }
