# storeops.shop — one entry point for humans and CI.
#   make demo    lab up, provision it with the collection, run the jobs on sample data, print where to look
#   make test    lint, sanity, unit tests, then the lab-backed tests; brings the lab down at the end
#   make check   the fast part of `make test` (lint, sanity, unit tests, the catalog site's tests), no lab
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= /usr/bin/python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# The lab's Vault password (lab-up writes it): exported only when it exists; the scripts that
# run after lab-up in the same make (demo, bench, molecule) set it themselves.
ifneq ($(wildcard $(CURDIR)/inventories/lab/.vault-password),)
export ANSIBLE_VAULT_PASSWORD_FILE := $(CURDIR)/inventories/lab/.vault-password
endif
# Debian packages: what `make check` needs (sanity's shellcheck, poppler for the PDF tests,
# the fonts build_report embeds), and what the lab, the browser checks and the benches add.
CHECK_PACKAGES := python3-venv rsync shellcheck poppler-utils fonts-dejavu-core fonts-droid-fallback
LAB_PACKAGES := systemd-container debootstrap iptables nftables iproute2 openssh-client \
	chromium chromium-driver wrk curl ca-certificates
LAB := $(PYTHON) tests/lab/lab.py

.PHONY: help venv deps check-deps check lint sanity units catalog-tests lab-up lab-down lab-status molecule integration lab-tests test demo bench build changelog clean

help:
	@echo "make demo | make test | make check | make lab-up | make lab-down | make bench | make build"

# --- environment -----------------------------------------------------------------
# Installs the Debian packages of $(1) that are missing (one apt-get run).
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@mkdir -p $(VENV) && touch $@
endef

check-deps: $(VENV)/.check-deps-stamp
$(VENV)/.check-deps-stamp: Makefile
	$(call apt_install,$(CHECK_PACKAGES))

deps: check-deps $(VENV)/.deps-stamp
$(VENV)/.deps-stamp: Makefile
	$(call apt_install,$(LAB_PACKAGES))

venv: $(VENV)/.venv-stamp .ansible/collections/ansible_collections/storeops/shop
$(VENV)/.venv-stamp: requirements/dev.txt meta/ee-requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements/dev.txt
	@touch $@
# ansible.cfg's collections_path points here, so the checkout is the collection storeops.shop.
.ansible/collections/ansible_collections/storeops/shop:
	@mkdir -p $(@D) && ln -sfn ../../../.. $@

# --- fast checks -----------------------------------------------------------------
check: lint sanity units catalog-tests

lint: venv
	$(BIN)/yamllint -s .
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint
	$(BIN)/antsibull-changelog lint
	$(MAKE) --no-print-directory build
	$(BIN)/ansible-builder create -f execution-environment.yml --context build/ee --output-filename Containerfile >/dev/null
	@echo "execution-environment.yml: valid (build context in build/ee)"
	@printf 'example-only-change-me\n' > build/example-vault-password
	$(BIN)/ansible-inventory -i inventories/example --list --vault-password-file build/example-vault-password >/dev/null
	@echo "inventories/example: valid, its vault.yml opens with the example password"

sanity: check-deps venv
	tests/sanity/run.sh

units: check-deps venv
	tests/unit/run.sh

catalog-tests: venv
	apps/catalog/run-tests.sh

# --- the lab ---------------------------------------------------------------------
lab-up: deps venv
	$(LAB) up

lab-down:
	$(LAB) down

lab-status:
	$(LAB) status

# --- lab-backed tests ------------------------------------------------------------
molecule: venv
	tests/molecule.sh

integration: venv
	tests/integration/run.sh

lab-tests: lab-up
	$(MAKE) integration molecule

test: deps venv
	tests/run-all.sh

# --- demo, benchmarks, release -----------------------------------------------------
demo: deps venv lab-up
	tests/demo.sh

bench: deps venv lab-up
	bench/run.sh

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path build/

changelog: venv
	$(BIN)/antsibull-changelog release

clean: lab-down
	rm -rf build tests/output .ansible
