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

.PHONY: setup apt venv demo test lint typecheck unit bench clean

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
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

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

test: lint typecheck unit

bench: setup
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
