"""The sensitivity chapter's sections in one registry: each runs, returns its results, its verdicts and its glued
texts, and names its figures. Adding a sensitivity analysis = one module (run, verdicts, glued_text), one line here,
and its section in chapters/sensitivity.md.

The chapter calls `run_section(key, cohort, settings, page=...)` once per section and `summary_texts(runs)` at the
end, so every section reaches the page, and the closing verdict table, the same way.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from okapi.book import report
from okapi.plan import SensitivitySettings
from okapi.sensitivity import (adequacy, assumptions, assumptions_figures, assumptions_report, centres, clinical,
                               confounding, definitions, definitions_figures, dose_exposure, dropout, mediation,
                               mediation_figures, missing, missing_figures, questionnaires, trajectories,
                               trajectories_figures)
from okapi.data.loading import SYNTHETIC
from okapi.sensitivity.verdicts import Verdict, conclusion_summary, held_sentence, with_design_mark, with_power


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    run: Callable  # (cohort, settings) -> results
    verdicts: Callable[[object], list[Verdict]]
    glued_text: Callable[[object], dict[str, str]]
    figures: dict[str, Callable] = field(default_factory=dict)  # glue name -> (results) -> Figure


SECTIONS: dict[str, Section] = {s.key: s for s in (
    Section("missing", "Missing data", missing.run_missing_sensitivity, missing.verdicts, missing.glued_text,
            {"sens_missing_fig_decline": missing_figures.plot_decline_tipping,
             "sens_missing_fig_interaction": missing_figures.plot_interaction_tipping_map}),
    Section("dropout", "Dropout", dropout.run_dropout_sensitivity, dropout.verdicts, dropout.glued_text),
    Section("definitions", "Definitions of depression", definitions.run_definitions_sensitivity,
            definitions.verdicts, definitions.glued_text,
            {"fig_sens_definitions_forest": definitions_figures.plot_interaction_forest}),
    Section("mediation", "Readings of the mediation model", mediation.run_mediation_sensitivity, mediation.verdicts,
            mediation.glued_text, {"fig_sens_mediation_iky": mediation_figures.plot_sensitivity_curves}),
    Section("dose", "Dose as a time-varying exposure", dose_exposure.run_dose_exposure_sensitivity,
            dose_exposure.verdicts, dose_exposure.glued_text),
    Section("adequacy", "Model adequacy", adequacy.run_adequacy_sensitivity, adequacy.verdicts, adequacy.glued_text,
            {"fig_sens_adequacy": adequacy.plot_adequacy}),
    Section("confounding", "Confounding of the depression comparison", confounding.run_confounding_sensitivity,
            confounding.verdicts, confounding.glued_text),
    Section("questionnaires", "Depression and quality of life over time",
            questionnaires.run_questionnaires_sensitivity, questionnaires.verdicts, questionnaires.glued_text),
    Section("clinical", "Clinical relevance", clinical.run_clinical_sensitivity, clinical.verdicts,
            clinical.glued_text),
    Section("trajectories", "Trajectory settings", trajectories.run_trajectories_sensitivity, trajectories.verdicts,
            trajectories.glued_text, {"fig_sens_trajectories_bootstrap_k": trajectories_figures.plot_bootstrap_k}),
    Section("centres", "Centres", centres.run_centres_sensitivity, centres.verdicts, centres.glued_text),
    Section("assumptions", "The synthetic cohort's assumptions", assumptions.run_assumptions_sensitivity,
            assumptions_report.verdicts, assumptions_report.glued_text,
            {"sens_assumptions_fig_pain_course":
                 lambda results: assumptions_figures.tornado_figure(results, assumptions_figures.PAIN_COURSE),
             "sens_assumptions_fig_mediation":
                 lambda results: assumptions_figures.tornado_figure(results, assumptions_figures.MEDIATION)}),
)}


@dataclass
class SectionRun:
    section: Section
    results: object
    verdicts: list[Verdict]
    glued: dict[str, str]


def run_section(key: str, cohort, settings: SensitivitySettings, page: str | None = None,
                power: dict[str, float] | None = None) -> SectionRun:
    """Run one section; with `page` (the chapter's source), glue its texts (those the page cites) and figures.
    Its verdicts are finished here, all alike: the power rule (a result resting on no effect seen becomes "not
    assessable" where the conclusion's primary analysis has under MIN_POWER; `power`: okapi.simulation.operating.
    conclusion_power) and, on the synthetic cohort, the mark of answers its design decides."""
    section = SECTIONS[key]
    results = section.run(cohort, settings)
    synthetic = cohort.mode == SYNTHETIC
    finished = [with_design_mark(with_power(v, (power or {}).get(v.conclusion)), key, synthetic)
                for v in section.verdicts(results)]
    run = SectionRun(section, results, finished, section.glued_text(results, finished))
    if page is not None:
        report.glue_numbers(run.glued, page=page)
        for name, draw in section.figures.items():
            report.glue_figure(name, draw(results))
    return run


def all_verdicts(runs: list[SectionRun]) -> list[Verdict]:
    missing_keys = [key for key in SECTIONS if key not in {run.section.key for run in runs}]
    if missing_keys:
        raise ValueError(f"the verdict summary needs every section; not run: {missing_keys}")
    return [verdict for run in runs for verdict in run.verdicts]


def summary_texts(runs: list[SectionRun]) -> dict[str, str]:
    """'sens_summary_<conclusion>': one sentence per conclusion of the paper, over every section's verdicts; and
    'sens_held_overall': how many conclusions stand supported, contradicted or not assessable (the front page's
    abstract glues it from the chapter's stored outputs)."""
    verdicts = all_verdicts(runs)
    return {**{f"sens_summary_{key}": text for key, text in conclusion_summary(verdicts).items()},
            "sens_held_overall": held_sentence(verdicts)}
