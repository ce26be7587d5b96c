# Atención — developer and CI entry points.  `make test` is what .ci/run runs.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# written when $(VENV) holds requirements.lock + the project (editable); see .gitignore
STAMP := $(VENV)/.atencion-installed
PYTEST_ARGS ?=
# Debian packages the tests start servers from; installed by `make test` when missing and run as root.
# chromium + a font: the panel's browser tests (Playwright drives /usr/bin/chromium, never a download).
# pango, harfbuzz-subset + DejaVu: WeasyPrint's PDF documents; poppler-utils: pdftotext reads them back.
# chromium-l10n: Chromium's Spanish, so `make tour` shows date fields as dd/mm/aaaa, as a Peruvian's browser does.
TEST_DEB_PACKAGES ?= dovecot-imapd postgresql redis-server chromium chromium-l10n fonts-dejavu-core \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils

.PHONY: all .venv test deb-packages demo bench tour lint lock clean up down

all: test

.venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -f $(VENV)/pyvenv.cfg -a -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q -r requirements.lock
	$(VPY) -m pip install -q --no-deps -e .
	touch $@

deb-packages:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  missing=""; \
	  for p in $(TEST_DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing missing Debian packages:$$missing"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	  fi; \
	fi

# `python -m pytest` rather than .venv/bin/pytest: same thing, and immune to stale script shebangs.
# pytest exits 5 when it collects no tests, so an empty run fails too.
test: .venv deb-packages
	$(VPY) -m pytest -q $(PYTEST_ARGS)

demo: .venv
	$(VENV)/bin/atencion demo

bench: .venv
	@for f in bench/*.py; do \
	  [ -e "$$f" ] || continue; \
	  echo "== $$f"; \
	  $(VPY) "$$f" || exit 1; \
	done

# The README's tour of the panel: `make demo` in a temporary folder, one screenshot per page into docs/tour/.
tour: .venv deb-packages
	$(VPY) docs/tour.py

lint: .venv
	@if [ -x $(VENV)/bin/ruff ]; then $(VENV)/bin/ruff check .; \
	else echo "ruff is not installed in $(VENV); skipping lint"; fi

# Regenerate requirements.lock from what .venv holds now (the project itself, pip and setuptools
# excluded; wheel is kept: the packaging test builds one).  Install new dependencies into .venv first, then `make lock`.
lock:
	@test -x $(VPY) || { echo "no $(VENV): run 'make .venv' first"; exit 1; }
	@{ echo "# requirements.lock: exact versions of everything Atención and its tests/dev tools need."; \
	  echo "# Generated from .venv by 'make lock' (pip freeze --exclude-editable, without the project,"; \
	  echo "# pip and setuptools). To change it: .venv/bin/pip install ..., then make lock."; \
	  $(VPY) -m pip freeze --all --exclude-editable --disable-pip-version-check \
	    | grep -v -i -E '^(pip|setuptools|distribute|atencion)(==| @)' \
	    | LC_ALL=C sort -f -t= -k1,1; \
	} > requirements.lock.tmp
	@mv requirements.lock.tmp requirements.lock
	@echo "requirements.lock: $$(grep -c '==' requirements.lock) packages"
	@# the venv matches the new lock: do not reinstall on the next make
	@if [ -f $(STAMP) ]; then touch $(STAMP); fi

# docker-compose.yml on this host (README, "Deployment with docker compose"). `up` needs
# ATENCION_SECRET_KEY and ATENCION_IMAP_URL set; `down` does not read them, so it gets stand-ins.
COMPOSE ?= docker compose
define need_compose
	@command -v docker >/dev/null 2>&1 || { echo "docker is not installed: install Docker Engine with the compose plugin to use 'make $@'"; exit 1; }
	@$(COMPOSE) version >/dev/null 2>&1 || { echo "'$(COMPOSE)' does not work: install the Docker Compose v2 plugin to use 'make $@'"; exit 1; }
endef

up:
	$(need_compose)
	$(COMPOSE) up -d --build

down:
	$(need_compose)
	ATENCION_SECRET_KEY=$${ATENCION_SECRET_KEY:-unused} ATENCION_IMAP_URL=$${ATENCION_IMAP_URL:-unused} $(COMPOSE) down

clean:
	rm -rf var/ .pytest_cache/ .ruff_cache/ .mypy_cache/ build/ dist/ *.egg-info/ requirements.lock.tmp
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
