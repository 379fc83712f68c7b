"""Verdicts on published figures: each reproduced value beside the published one, with the rule that decides and
the rule's stated wording. Imports `data` and `book`.

- `ledger`: the reproduction ledger rows every chapter returns, the tables the book prints and the JSON it publishes;
- `ledger_compact`, `ledger_figure`: the front page's ledger (narrow, not-reproduced rows first, Ids linked to their
  chapters, rules as footnotes) and its figure of every published figure beside its reproduction on one scale.
"""
