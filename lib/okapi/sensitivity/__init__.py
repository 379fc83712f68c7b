"""Sensitivity analyses: each conclusion of the paper under other reasonable analysis choices. Imports everything up
to `simulation`.

- `verdicts`: the conclusions under test, the three-level verdict each analysis gives, the chapter's settings;
- one module per section (`missing`, `definitions`, `mediation`, `trajectories`, `centres`, `assumptions`), each
  with its figures module.
"""
