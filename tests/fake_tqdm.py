"""A stand-in for tqdm's bar that records what the CLI asks it to show (tests of core.cli)."""


class FakeTqdm:
    made = []              # every bar made since the test reset it

    def __init__(self, **kwargs):
        self.kwargs, self.n, self.postfixes, self.refreshes, self.lines = kwargs, 0, [], [], []
        FakeTqdm.made.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, amount):
        self.n += amount

    def set_postfix(self, refresh=True, **values):
        self.postfixes.append((self.n, values))
        self.refreshes.append(refresh)

    def write(self, line):
        self.lines.append(line)
