# digitpad: `make run` sets up and launches the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MNIST  ?= $(shell $(BIN)/python -c "from core.paths import DEV_MNIST_DIR; print(DEV_MNIST_DIR)")
MODEL  ?= assets/model.npz

.PHONY: run test setup train wheel bench bench-gui bench-drawn faults screenshot model sample clean

run: $(STAMP)
	$(BIN)/digitpad

test: $(STAMP)
	$(BIN)/python -m pytest

setup: $(STAMP)

# digitpad-train with ARGS, e.g. make train ARGS="--tutorial"
train: $(STAMP)
	$(BIN)/digitpad-train $(ARGS)

# A self-contained wheel (the model, the sample and its attribution inside) in dist/; build/ is
# removed first, as setuptools would otherwise package files left there by an earlier build.
wheel: $(STAMP)
	rm -rf build dist/digitpad-*.whl
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

bench: $(STAMP)
	$(BIN)/python bench/bench_core.py --data-dir $(MNIST)

bench-drawn: $(STAMP)
	$(BIN)/python bench/drawn_digits.py --data-dir $(MNIST)

bench-gui: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/gui_latency.py

faults: $(STAMP)
	$(BIN)/python tools/fault_report.py

screenshot: $(STAMP)
	xvfb-run -a -s "-screen 0 1920x1200x24" $(BIN)/python tools/screenshot.py --out-dir docs

# The shipped model: the default recipe on full MNIST (see README). Refuses (status 1, the model
# untouched) when $(MNIST) does not hold the four verified MNIST files, rather than train on the sample.
model: $(STAMP)
	$(BIN)/digitpad-train --require-full-mnist --data-dir $(MNIST) --save $(MODEL)

sample: $(STAMP)
	$(BIN)/python tools/make_sample.py $(MNIST)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
