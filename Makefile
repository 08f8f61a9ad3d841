# digitpad: `make run` sets up and launches the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MNIST  ?= $(shell $(BIN)/python -c "from core.paths import DEV_MNIST_DIR; print(DEV_MNIST_DIR)")

.PHONY: run test setup bench bench-gui bench-drawn faults screenshot model sample clean

run: $(STAMP)
	$(BIN)/digitpad

test: $(STAMP)
	$(BIN)/python -m pytest

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[gui,test]"
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
	xvfb-run -a -s "-screen 0 1920x1200x24" $(BIN)/python tools/screenshot.py docs/screenshot.png

# The shipped model: the default recipe on full MNIST (see README).
model: $(STAMP)
	$(BIN)/digitpad-train --data-dir $(MNIST) --save assets/model.npz

sample: $(STAMP)
	$(BIN)/python tools/make_sample.py $(MNIST)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
