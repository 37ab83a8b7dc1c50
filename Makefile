# Two commands: `make run` (start the app with a demo expo) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export EXPO_ENV ?= development
export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test install install-test browser fonts db clean bench bench-bound bench-docs bench-weight bench-assign bench-routing

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed fonts
install-test: $(VENV)/.installed-test browser fonts

# Printed names may be in any script: Noto covers Latin, Greek, Cyrillic and Arabic (fonts-noto-core)
# and Chinese, Japanese and Korean (fonts-noto-cjk). WeasyPrint finds them through fontconfig.
FONT_PACKAGES := fonts-noto-core fonts-noto-cjk
fonts:
	@if ! fc-list 2>/dev/null | grep -q "NotoSerif-Regular" || ! fc-list 2>/dev/null | grep -q "NotoSansCJK-Regular" \
	    || ! fc-list 2>/dev/null | grep -q "NotoNaskhArabic-Regular"; then \
	  echo "Installing the Noto fonts for printed names in every script..."; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(FONT_PACKAGES) >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq $(FONT_PACKAGES) >/dev/null; fi; \
	fi

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

db: install
	$(BIN)/expo init-db
	$(BIN)/expo seed-demo --with-scores

run: db
	$(BIN)/expo sign-in-info
	$(BIN)/expo run --host 127.0.0.1 --port $(PORT)

# pytest exits 5 when it collected no tests: that must fail, not pass silently.
test: install-test
	@$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

bench: install
	$(BIN)/python bench/ranking.py

# How close to the oracle any method could get on the same simulated expos (about 8 minutes).
bench-bound: install
	$(BIN)/python bench/bayes_bound.py --check

# Pages per second and peak memory of the printed matter, against a page-at-a-time baseline.
bench-docs: install
	$(BIN)/python bench/documents.py

bench-weight: install
	$(BIN)/python bench/page_weight.py

bench-assign: install
	$(BIN)/python bench/assignment.py

bench-routing: install
	$(BIN)/python bench/routing.py --seeds 100

clean:
	rm -rf $(VENV) .pytest_cache
