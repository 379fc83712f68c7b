"""Publishing the stored outputs: the book's LaTeX layout, the journal manuscript, its supplement and Word version.

Everything here runs at build time only, after the chapters were executed: it reads the stored notebooks
(`chapters/*.ipynb`, `index.ipynb`) and lays them out; no chapter imports it, so it cannot change a computed number.
That is why it lives beside `okapi` and not inside it: the notebooks' input fingerprint covers `lib/okapi` (anything
there can change a result), and a change of layout must not make every chapter stale and force its re-execution.
It may import `okapi.paths`, `okapi.plan`, `okapi.data` and `okapi.book` (a test checks it), never an analysis.

- `stored`: reads what the notebooks stored: glued texts, captioned tables, glued figures (loudly, by name);
- `widths`: column widths from the text a table holds (no clipped id, no hyphenated word);
- `latex_layout`: the Sphinx extension for the LaTeX of the book and of the supplement (page, table widths,
  breakable identifiers, display math, no code cells);
- `supplement`: the Sphinx extension and configuration that typeset the book as Supplement 1 (eAppendix, eTable and
  eFigure numbering; the displays the manuscript shows are not repeated);
- `source`, `counts`, `docx`, `build`: the manuscript: its MyST-like source resolved into pandoc Markdown, the
  journal's counts and limits, the Word styles, and `python -m okapi_publish.build` (`make manuscript`).
"""
