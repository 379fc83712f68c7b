"""The synthetic OKAPI cohort: a documented generative model calibrated to the published figures. Imports `data`,
`book` and `verdicts` at most (in practice `data` only).

- `parameters`: every parameter with value, unit, provenance (published / derived / assumed) and plausible range;
- `patients`, `outcomes`: the generator's two stages (inclusion and latent course; monthly follow-up);
- `cohort`: simulate a cohort and write it in the codebook's schema (`python -m okapi simulate`);
- `calibration`, `calibration_solver`: population analogues of the published figures, and the solver of the
  derived parameters. They use the paper's published cut-off (okapi.plan.PUBLISHED_HADS_D_CUTOFF), never the
  analysis one.
"""
