"""One module per chapter of the book, named as the chapter (`chapters/pain.md` -> `okapi.chapters.pain`), plus its
figures (`pain_figures`) and reports. Each returns results, ledger rows and glued texts; the chapter's notebook only
calls it and narrates. Imports `data`, `book`, `verdicts`, `synthetic` and `models`.

`registry` runs every chapter's analysis in the book's order: the front page's ledger and `okapi analyze` use it.
"""
