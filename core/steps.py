"""Long jobs written as generators (a slice of work per step, so a GUI can run them between
events), run all at once by code that has no events to serve."""


def run_to_end(steps, default=None):
    """Run the generator `steps` to its end and return what it yielded last (`default` if nothing)."""
    last = default
    for last in steps:
        pass
    return last
