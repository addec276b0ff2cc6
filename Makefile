# lurescan: one command per step. Everything installs into .venv.
#   make serve          set up (no torch) and run the API on the bundled default model
#   make test           set up everything, lint (ruff, mypy on model/) and run the test suite (what CI runs)
#   make test-slow      the slow tests (full fine-tune, soak, load) - scheduled, not per commit
#   make default-model  rebuild the default model into runs/default-model (INSTALL=1: replace model/default_bundle)
#   make bench          rerun the benchmarks quoted in the README

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
TORCH_VERSION := 2.13.0
SHARED_DATA ?= $(abspath ../shared/data)
export LURESCAN_SHARED_DATA ?= $(SHARED_DATA)

.PHONY: venv install-serve install-dev serve lint test test-slow browser default-model bench bench-models bench-soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Scoring and the API: no torch, no datasets.
$(VENV)/.serve-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[serve]"
	touch $@

# Training and tests. torch first, pinned: a bare `torch` requirement would
# pull a multi-GB CUDA build; 2.13.0 is the CPU build on this machine's disk.
$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet "torch==$(TORCH_VERSION)"
	$(PIP) install --quiet -e ".[train,serve,postgres,redis,ray,dev]"
	touch $@

install-serve: $(VENV)/.serve-installed
install-dev: $(VENV)/.dev-installed

serve: install-serve
	$(BIN)/lurescan serve

# Debian's Chromium for the browser test of the HTML page (Playwright drives it).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# ruff (the rule set in pyproject.toml) over the tree, mypy over model/: part of `make test`.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install-dev browser lint
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

test-slow: install-dev browser
	$(BIN)/python -m pytest -q -m slow

# Writes runs/default-model (bundle, run files); INSTALL=1 then replaces model/default_bundle
# and records its scores on fixed ads (tests/fixtures/golden_scores.csv.gz, checked by the tests).
default-model: install-dev
	$(BIN)/python -m lurescan.training.build_default --shared-data "$(SHARED_DATA)" --out runs/default-model $(if $(INSTALL),--install)
	$(if $(INSTALL),$(BIN)/python tests/model/golden_scores.py --write)

# Each script prints its table and writes JSON under runs/. Run on an otherwise idle machine.
bench: install-dev
	$(BIN)/python benchmarks/bench_baseline.py --shared-data "$(SHARED_DATA)"
	$(BIN)/python benchmarks/bench_score_throughput.py --rows 100000
	$(BIN)/python benchmarks/bench_features.py
	$(BIN)/python benchmarks/bench_redflags.py
	$(BIN)/python benchmarks/loadtest.py --floor-client httpx
	$(BIN)/python benchmarks/bench_ray.py --rows 200000

# Heavier: the transformer and ensemble (needs artifacts/transformer from `lurescan finetune`), a 5-minute soak.
bench-models: install-dev
	$(BIN)/python benchmarks/bench_models.py --transformer artifacts/transformer
bench-soak: install-dev
	$(BIN)/python benchmarks/soak.py --minutes 5

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
