#!/usr/bin/env bash
# Installs the Debian packages a step needs, when they are missing: as root it installs them with apt-get; otherwise
# it prints the exact command to run. With --required a missing group is an error (exit 1); without it the caller goes
# on and the tests that need the group are skipped with a visible reason.
#   tools/system-deps.sh [--required] {tex|r|pdftools|pandoc|browser|node}...
set -euo pipefail

required=0
if [ "${1:-}" = "--required" ]; then required=1; shift; fi

packages_for() {
  case "$1" in
    # xelatex with the FreeFont family: about 112 MB, enough for the book's LaTeX style (not Jupyter Book's default).
    tex) echo "latexmk texlive-latex-extra texlive-fonts-recommended texlive-xetex fonts-freefont-otf" ;;
    # R is only an independent reference implementation for the tests, never part of the book.
    r) echo "r-base-core r-cran-lme4 r-cran-lmertest r-cran-pbkrtest r-cran-flexmix r-cran-mvtnorm r-cran-boot" ;;
    pdftools) echo "poppler-utils" ;;
    # The manuscript (make manuscript): pandoc 2.17 writes its LaTeX and Word files, and the CSL styles package holds
    # the American Medical Association citation style its references are formatted in (about 42 MB, offline).
    pandoc) echo "pandoc citation-style-language-styles" ;;
    # Headless Chromium and its WebDriver, to check the HTML book in a real browser; a font so pages render text.
    browser) echo "chromium chromium-driver fonts-dejavu-core" ;;
    # Node.js and npm install the pinned browser-side files of tools/node/package-lock.json (MathJax, axe-core).
    node) echo "nodejs npm" ;;
    *) echo "unknown group: $1" >&2; exit 2 ;;
  esac
}

present() {
  case "$1" in
    # NodeSource's nodejs package bundles npm and conflicts with Debian's npm: the commands are what counts.
    nodejs) command -v node >/dev/null ;;
    npm) command -v npm >/dev/null ;;
    *) dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" ;;
  esac
}

# A misspelt group is an error here (inside the loop's $(...) its exit status would be lost).
for group in "$@"; do packages_for "$group" >/dev/null; done
missing=()
for group in "$@"; do
  for package in $(packages_for "$group"); do
    present "$package" || missing+=("$package")
  done
done
[ ${#missing[@]} -eq 0 ] && exit 0

command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "Missing Debian packages: ${missing[*]}" >&2
echo "Install them with:  sudo $command" >&2
[ $required = 1 ] && exit 1
echo "(going on; the steps that need them are skipped and say so)" >&2
exit 0
