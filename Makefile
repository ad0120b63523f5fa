# The two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= cofail-report

# Debian packages the tests use: a real browser for the report test, SCRAM to cross-check.
DEB_PACKAGES := chromium scram

.PHONY: demo test install dev system-deps lint typecheck pytest property-long fuzz-long bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

dev: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'

demo: install
	$(BIN)/cofail report --out $(OUT)

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: dev
	$(BIN)/mypy

system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "note: not root, so$$missing not installed; the tests that need them skip"; fi; \
	fi

pytest: dev system-deps
	COFAIL_REQUIRE_KERNELS=1 $(BIN)/pytest

test: lint typecheck pytest

# Not in CI: the property tests with random seeds and 20 times their examples. A failure prints
# a reproduction blob (@reproduce_failure) to paste above the test.
property-long: dev system-deps
	HYPOTHESIS_PROFILE=long COFAIL_EXAMPLES_SCALE=$${COFAIL_EXAMPLES_SCALE:-20} $(BIN)/pytest -p no:cacheprovider tests

# Not in CI: the fuzz tests (generated matrices, MEF models and logs, stacks past the exact
# engines, writers killed at random points) with random seeds and 200 times their examples;
# --hypothesis-show-statistics prints how many ran.
fuzz-long: dev system-deps
	HYPOTHESIS_PROFILE=long COFAIL_EXAMPLES_SCALE=$${COFAIL_EXAMPLES_SCALE:-200} $(BIN)/pytest \
		-p no:cacheprovider --hypothesis-show-statistics tests/test_fuzz.py \
		tests/test_hostile_input.py tests/test_hostile_logs.py tests/test_hostile_exact.py \
		tests/test_hostile_kills.py -k "any_"

bench: dev system-deps
	$(BIN)/python benchmarks/empirical_benchmark.py
	$(BIN)/python benchmarks/risk_benchmark.py
	$(BIN)/python benchmarks/scores_benchmark.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
