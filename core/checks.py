"""Settings checked in order: the first one that fails is the one the user is told about."""


def first_failed(checks) -> None:
    """checks: (ok, message) pairs in the order they matter -> ValueError(message) of the first not ok."""
    for ok, message in checks:
        if not ok:
            raise ValueError(message)
