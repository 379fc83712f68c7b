"""Publishing machinery: how a computed result reaches the page. Imports `data` (and `paths`, `plan`) only; it knows
nothing of the analyses.

- `report`: number formats, glued text, captioned Markdown tables and figures (every output passes the privacy
  guard of okapi.data.privacy here);
- `tables`: descriptive table builders (Table 1 and comparison rows);
- `theme`: the book's one figure theme (seaborn), applied by an explicit call;
- `notebooks`: re-executes chapters, stamps their input fingerprints, reruns with other parameters;
- `sphinx_ext`, `buildinfo`: build-time extras (commit, downloads, published JSON, MathJax served locally,
  accessibility fixes, figures' alt text) and the reproducing page's facts;
- `review`, `review_outputs`, `review_html`: `make review`, a rerun of every chapter in a scratch copy compared output
  by output (text exactly, figures as images) with the published notebooks;
- `disclosure_scan`, `disclosure_rules`: `okapi disclosure-scan`, the output check of a real-data build (small and
  recoverable counts, minima and maxima, patient-level rows and figures) in the built HTML and the ledger JSON.
"""
