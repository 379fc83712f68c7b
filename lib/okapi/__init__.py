"""okapi: the library behind the OKAPI ketamine cohort reproducible paper.

Chapters and the command line (`python -m okapi`) call the same functions, so a number in the book and a number
printed by `okapi analyze` come from one piece of code.
"""

__version__ = "0.1.0"
