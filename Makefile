# The README's commands: `make` builds the book, `make test` runs the tests, `make pdf` builds the paper,
# `make manuscript` the journal submission (manuscript PDF and Word file, supplement PDF).
# Every verb first creates .venv/ from the pinned lock when it is missing or older than the lock.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
# Warnings are errors: a blank glued number or a broken reference fails the build.
JB_STRICT := -W -n --keep-going
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.DEFAULT_GOAL := book
.PHONY: help book outputs status review test test-fast r-results pdf manuscript data lock clean

# Browser-side files pinned in tools/node/package-lock.json: MathJax (copied into the book's _static by the build, so
# formulas render offline and from file://) and axe-core (the accessibility checks of the browser tests).
NODE_DIR := _build/node
NODE_READY := $(NODE_DIR)/.ready

# okapi_publish (the LaTeX layout and the manuscript build) is a second package beside okapi: a venv installed before
# it existed must be reinstalled to import it.
$(READY): requirements.txt pyproject.toml lib/okapi_publish/__init__.py
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: install Python 3.11 (Debian: apt-get install python3 python3-venv)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	@# --no-deps: the lock is the complete resolved set, so nothing else may be resolved on the way.
	$(BIN)/python -m pip install --quiet --quiet --no-deps -r requirements.txt
	$(BIN)/python -m pip install --quiet --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $@

$(NODE_READY): tools/node/package.json tools/node/package-lock.json
	tools/system-deps.sh --required node
	mkdir -p $(NODE_DIR)
	cp tools/node/package.json tools/node/package-lock.json $(NODE_DIR)/
	@# npm ci installs exactly the lock (versions and integrity hashes) and nothing else.
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The folder the book is built from: the repository, or (with OKAPI_DATA_DIR set) a git-ignored copy in
# _build/extract-book, so that real-data outputs never land in the committed notebooks.
BOOK_DIR = $(shell $(BIN)/python -m okapi.book.notebooks book-dir)

## book: re-execute the chapters whose inputs changed, then build the HTML book in _build/html
book: $(READY) $(NODE_READY)
	$(BIN)/python -m okapi.book.notebooks regenerate
	$(BIN)/jupyter-book build $(BOOK_DIR) $(JB_STRICT)
	@# On a real extract (OKAPI_DATA_DIR), the built pages, the ledger and the notebooks' figures are checked as a
	@# secure research environment checks outputs before release; a finding fails the build (no-op otherwise).
	$(BIN)/python -m okapi disclosure-scan $(BOOK_DIR)/_build/html --real-only --notebooks $(BOOK_DIR)

## outputs: re-execute every chapter from scratch and store its outputs
outputs: $(READY)
	$(BIN)/python -m okapi.book.notebooks regenerate --all

## status: which stored chapter outputs are stale, and why
status: $(READY)
	$(BIN)/python -m okapi.book.notebooks status

## review: rerun every chapter from scratch in a scratch copy and compare each output with the published book
review: $(READY)
	$(BIN)/python -m okapi.book.review run

## test: library tests, R reference checks, and a fresh re-execution of every chapter compared with what is published
test: $(READY) $(NODE_READY)
	tools/system-deps.sh r tex pdftools pandoc browser
	@# Two workers; --dist loadfile keeps a notebook's cells (and a test file's tests) on one worker, in order.
	$(BIN)/python -m pytest -n 2 --dist loadfile $(NBVAL) tests index.ipynb chapters

## test-fast: the library tests only (no R, browser, PDF, chapter execution or slow checks), on both cores
test-fast: $(READY)
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not (r or browser or pdf or notebooks or slow)" tests

## r-results: rerun the R reference checks live and freeze R's outputs in tests/results (commit them)
r-results: $(READY)
	tools/system-deps.sh --required r
	OKAPI_FREEZE_R=1 $(BIN)/python -m pytest -m r tests

## pdf: the paper through LaTeX (xelatex) in _build/latex/okapi-paper.pdf (installs TeX when run as root)
pdf: $(READY) $(NODE_READY)
	tools/system-deps.sh --required tex
	$(BIN)/python -m okapi.book.notebooks regenerate
	@# LaTeX's auxiliary files from an earlier build can break the next one: start clean (it takes seconds).
	rm -rf $(BOOK_DIR)/_build/latex
	$(BIN)/jupyter-book build $(BOOK_DIR) --builder pdflatex $(JB_STRICT)
	@# Rewrite every HTML page (--all) so that each download menu links the new PDF.
	$(BIN)/jupyter-book build $(BOOK_DIR) --all $(JB_STRICT) >/dev/null
	@echo "PDF: $(BOOK_DIR)/_build/latex/okapi-paper.pdf"

## manuscript: the journal submission in _build/manuscript/ (manuscript PDF and .docx, supplement PDF) from the stored outputs
manuscript: $(READY)
	tools/system-deps.sh --required tex pandoc
	$(BIN)/python -m okapi.book.notebooks regenerate
	$(BIN)/python -m okapi_publish.build

## data: regenerate the committed synthetic cohort (default seed) and its checksum manifest
data: $(READY)
	$(BIN)/python -m okapi simulate --out data --force

## lock: re-resolve requirements.in into the pinned requirements.txt (needs the package registry)
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --quiet -r requirements.in
	{ sed -n '1,2p' requirements.txt; .lock-venv/bin/python -m pip freeze --all --exclude pip --exclude setuptools; } > requirements.txt.new
	mv requirements.txt.new requirements.txt
	rm -rf .lock-venv

## clean: remove _build/
clean:
	rm -rf _build

## help: this list
help:
	@sed -n 's/^## \([a-z-]*\): /  make \1\t/p' $(MAKEFILE_LIST) | expand -t 20
