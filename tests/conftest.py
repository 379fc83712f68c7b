# Fails early, with the command to run, when the tests are started from a Python that lacks the project's set-up.
import pytest

try:
    import okapi  # noqa: F401
except ModuleNotFoundError as missing:
    raise pytest.UsageError(
        f"{missing}: this Python does not have the project's packages. Run `make test` from the repository root: it "
        "creates .venv/ from the pinned lock and runs the tests with it."
    ) from None
