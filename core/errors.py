"""The exceptions digitpad raises for problems a user can cause or fix.

Every message is written for the person reading it: it says what was wrong and,
where it helps, what to do. The CLI prints it on one line; the GUI shows it in a dialog.
"""


class DigitpadError(Exception):
    """Base class: any error with a message fit to show a user as it is."""


class DataError(DigitpadError):
    """A dataset file is missing, corrupt or not what it claims to be."""


class DownloadError(DataError):
    """No mirror delivered a good copy of a dataset file."""


class DownloadCancelled(DigitpadError):
    """The user stopped a download; nothing partial was kept."""


class ModelFileError(DigitpadError):
    """A model file cannot be read or written."""


class TrainingDiverged(DigitpadError):
    """The loss became NaN or infinite; the last good weights were restored."""


class BatchWorkerFailed(DigitpadError):
    """The process making the training batches ahead of the steps (core.prefetch) stopped or failed."""
