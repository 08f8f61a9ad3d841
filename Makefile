# digitpad: `make run` sets up and launches the app; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MNIST  ?= $(shell $(BIN)/python -c "from core.paths import DEV_MNIST_DIR; print(DEV_MNIST_DIR)")
MODEL  ?= assets/model.npz

.PHONY: run test setup train wheel bench bench-gui bench-drawn faults screenshot model sample mutate mutate-sample mutate-named clean

run: $(STAMP)
	$(BIN)/digitpad

# Both cores: the suite's ~840 tests take about half as long as in one process.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2

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

# Mutation testing (docs/MUTANTS.md): mutmut over core/ and gui/'s Qt-free modules, as if on a fresh
# clone without full MNIST; results are kept in mutants/, so a second run only re-tests changed code.
# MUTANTS narrows a run, e.g. make mutate MUTANTS='core.optim*'. Beware: changing [tool.mutmut]'s
# pytest arguments in pyproject.toml makes mutmut forget every result kept (it did, once: an hour lost).
MUTANTS ?=
mutate: $(VENV)/.mutate
	DIGITPAD_TEST_MNIST=$(CURDIR)/mutants/no-full-mnist nice -n 19 $(BIN)/mutmut run $(MUTANTS) > out/mutmut.log 2>&1 \
		|| (tail -n 30 out/mutmut.log; false)
	$(BIN)/python tools/mutation_report.py

# A seeded random sample of SAMPLE core/ mutants (plus a tenth as many of gui/'s): the score's
# estimate with its 95% interval, in a time one can wait for; the full run above takes hours here.
SAMPLE ?= 400
mutate-sample: $(VENV)/.mutate
	test -d mutants || DIGITPAD_TEST_MNIST=$(CURDIR)/mutants/no-full-mnist nice -n 19 $(BIN)/mutmut run 'core.paths*' > out/mutmut.log 2>&1
	($(BIN)/python tools/mutation_sample.py --size $(SAMPLE) --prefix core. && \
	 $(BIN)/python tools/mutation_sample.py --size $$(( $(SAMPLE) / 10 )) --prefix gui.) > out/mutant-sample.txt
	DIGITPAD_TEST_MNIST=$(CURDIR)/mutants/no-full-mnist nice -n 19 $(BIN)/mutmut run $$(cat out/mutant-sample.txt) \
		> out/mutmut.log 2>&1 || (tail -n 30 out/mutmut.log; false)
	$(BIN)/python tools/mutation_report.py --names out/mutant-sample.txt --out out/mutants-sample.md

# The larger slips issue 13 listed, applied by hand one at a time; each must fail its test.
mutate-named: $(STAMP)
	nice -n 19 $(BIN)/python tools/named_mutants.py

$(VENV)/.mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,mutate]"
	mkdir -p out
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis mutants
