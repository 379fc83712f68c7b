"""What a LaTeX log says about the printed page: boxes running past the margin, floats too tall for the page, and
references or citations LaTeX could not resolve. Read from the log of the last LaTeX pass (latexmk reruns until the
cross-references settle, so an undefined reference left there is one the reader sees as "??")."""

import re

OVERFULL = re.compile(r"^Overfull \\(?P<box>[hv])box \((?P<points>[\d.]+)pt too (?:wide|high)\)(?P<where>[^\n]*)", re.M)
FLOAT_TOO_LARGE = re.compile(r"^LaTeX Warning: Float too large for page[^\n]*", re.M)
# These warnings are only ever given for an undefined target; the log wraps long lines, so "undefined" itself may sit
# on the next line and is not matched.
UNDEFINED = re.compile(r"^(?:LaTeX|Package \w+) Warning: (?:Reference|Citation|Hyper reference) `[^']*'"
                       r"|^LaTeX Warning: There were undefined references\.", re.M)


def log_problems(log: str, tolerance_pt: float = 5.0) -> list[str]:
    """Each overfull box wider or higher than the tolerance, each float too large, each undefined reference."""
    problems = [f"overfull \\{m['box']}box by {m['points']} pt{m['where']}" for m in OVERFULL.finditer(log)
                if float(m["points"]) > tolerance_pt]
    problems += [m.group() for m in FLOAT_TOO_LARGE.finditer(log)]
    problems += [m.group() for m in UNDEFINED.finditer(log)]
    return problems
