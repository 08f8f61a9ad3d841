"""Which model the app is using and where it came from."""
from dataclasses import dataclass
from pathlib import Path

from core import paths
from core.errors import ModelFileError
from core.network import CNN


@dataclass
class ModelSession:
    model: CNN
    description: str          # shown in the status bar, e.g. "pretrained (model.npz)"
    unsaved: bool = False     # trained since it was loaded, created or saved


def fresh_session(seed: int | None = None) -> ModelSession:
    """Random weights; the same seed gives the same weights."""
    description = "new, random weights" if seed is None else f"new, random weights (seed {seed})"
    return ModelSession(CNN(seed=seed, deskew=True), description)   # the default recipe's input stage


def pretrained_session() -> ModelSession:
    """The bundled pretrained model; raises ModelFileError when it is missing or damaged."""
    path = Path(paths.PRETRAINED_MODEL)
    if not path.is_file():
        raise ModelFileError(f"The pretrained model {path.name} is missing from {path.parent}.")
    return ModelSession(CNN.load(path), f"pretrained ({path.name})")


def startup_session() -> tuple[ModelSession, str | None]:
    """The pretrained model, or a fresh one plus a message saying why (never raises)."""
    try:
        return pretrained_session(), None
    except ModelFileError as error:
        return fresh_session(), (f"{error} Starting with random weights: train it (F5) "
                                 "or open a saved model (Ctrl+O).")


def file_session(path) -> ModelSession:
    """A model read from `path`; raises ModelFileError."""
    return ModelSession(CNN.load(path), Path(path).name)
