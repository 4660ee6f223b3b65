# Every target creates/updates .venv by itself, so a fresh clone needs only `make run` / `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The real CLI agents, installed from npm into a local folder for `make e2e-agents` (the versions
# the fixtures in tests/data/clients/ were captured with; override to try others).
AGENTS := .agents
CLAUDE_CODE_VERSION ?= 2.1.337
CODEX_VERSION ?= 0.171.0
AGENTS_STAMP := $(AGENTS)/.installed-$(CLAUDE_CODE_VERSION)-$(CODEX_VERSION)

.PHONY: run test check format bench clean e2e-agents

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mockserver serve

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

check: $(STAMP)
	$(BIN)/ruff format --check mockserver tests bench
	$(BIN)/ruff check mockserver tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format mockserver tests bench
	$(BIN)/ruff check --fix mockserver tests bench

bench: $(STAMP)
	$(BIN)/python -m bench

$(AGENTS_STAMP):
	mkdir -p $(AGENTS)
	npm install --prefix $(AGENTS) --no-audit --no-fund --loglevel=error \
		@anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION) @openai/codex@$(CODEX_VERSION)
	# npm 11 skips claude-code's install script, which puts the native binary in place.
	cd $(AGENTS)/node_modules/@anthropic-ai/claude-code && \
		if [ -f install.cjs ]; then node install.cjs; fi
	touch $@

# Claude Code and Codex CLI, unmodified, against a server started for the purpose: a question and
# a scripted tool turn each (tests/data/clients/run_agents.sh). Needs node and the npm registry.
e2e-agents: $(STAMP) $(AGENTS_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" tests/data/clients/run_agents.sh \
		$(CURDIR)/$(AGENTS)/node_modules/.bin/claude $(CURDIR)/$(AGENTS)/node_modules/.bin/codex \
		$(CURDIR)/$(BIN)/mockserver

clean:
	rm -rf $(VENV) $(AGENTS) .pytest_cache .mypy_cache .ruff_cache
