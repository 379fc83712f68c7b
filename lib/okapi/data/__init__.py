"""The data layer: what an extract is and how it is read. It imports nothing of okapi but `paths` and `plan`.

- `codebook`: the schema of the three cohort files (data/codebook.csv), read into rules;
- `validation`, `validation_rules`: `okapi validate`, every rule a file/column/line message;
- `loading`: `load_cohort()`, the one door to the data (manifest checked, extract validated, mode set);
- `manifest`: SHA-256 manifest of the committed data (and of an imported extract);
- `import_command`, `mapping`, `readers`, `conversion`, `importing`: `okapi import`, an extract as its holder keeps it
  (Stata, SAS, SPSS, Excel, CSV; wide or long; own codes) turned into the codebook's three files through a TOML
  mapping, with a reconciliation and one exit code per kind of problem;
- `derive`, `attrition`: the analysis datasets every chapter shares (one row per patient, one row per score,
  who answered which call);
- `privacy`: disclosure control for real extracts (small counts, patient-level output);
- `targets`: the published figures (data/targets.csv).
"""
