# sqlreach: `make demo` runs the wizard on the built-in lab, `make test` runs every check.
# Both start with `make setup`, which is idempotent and works on a fresh Debian 12 machine.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp

# Debian packages the tests and the demo need: the ODBC driver manager and FreeTDS (real
# clients the lab is tested against), tmux (drives the TUI in tests), iproute2 + nftables
# (network namespaces for firewall tests), gnome-keyring + dbus (a real Secret Service),
# chromium (the served app in a real browser).
APT_PACKAGES := unixodbc unixodbc-dev tdsodbc freetds-bin tmux iproute2 nftables \
	gnome-keyring dbus dbus-bin libsecret-tools chromium python3-venv krb5-user

# The other supported Pythons, where pyenv has them: `make test` also runs the fast part of the
# suite on each (every test not marked slow or netns; tests/conftest.py names the slow modules),
# in a venv of its own (.venv-3.12, .venv-3.13) made and kept up to date like .venv.
PYENV_ROOT ?= $(HOME)/.pyenv
OTHER_VERSIONS := $(strip $(foreach v,3.12 3.13,$(if $(wildcard $(PYENV_ROOT)/versions/$(v).*/bin/python),$(v))))
FAST := -m "not slow and not netns"

.PHONY: setup apt venv demo test lint typecheck unit other-pythons bench clean

setup: apt $(STAMP)

apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "Missing Debian packages. Install them with:"; \
	  echo "  sudo apt-get update && sudo apt-get install -y$$missing"; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,serve]'
	@touch $(STAMP)

.PRECIOUS: .venv-%/.setup-stamp  # a stamp, not an intermediate file to remove

.venv-%/.setup-stamp: pyproject.toml
	@test -x .venv-$*/bin/python || \
	  $$(ls -d $(PYENV_ROOT)/versions/$*.*/bin/python | sort -V | tail -n 1) -m venv .venv-$*
	.venv-$*/bin/python -m pip install -q --upgrade pip
	.venv-$*/bin/python -m pip install -q -e '.[dev,serve]'
	@touch $@

venv: $(STAMP)

demo: setup
	$(BIN)/sqlreach lab

lint: setup
	$(BIN)/ruff check tui screens tests
	$(BIN)/ruff format --check tui screens tests
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

# The suite in parallel workers (pytest-xdist): on two cores, three workers keep both busy while
# some tests wait on timeouts and subprocesses. WORKERS=0 runs it in this one process.
WORKERS ?= 3

unit: setup
	$(BIN)/pytest -q -n $(WORKERS)

unit-%: .venv-%/.setup-stamp setup
	.venv-$*/bin/pytest -q -n $(WORKERS) $(FAST)

other-pythons: $(addprefix unit-,$(OTHER_VERSIONS))

test: lint typecheck unit other-pythons

bench: setup
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .venv-3.12 .venv-3.13 .mypy_cache .ruff_cache .pytest_cache .hypothesis
