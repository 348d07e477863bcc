# make run   - set up (first time) and serve the app on http://127.0.0.1:5000
# make test  - lint (style and layers) and run the test suite (DATABASE_URL=postgresql+psycopg://... to use PostgreSQL)
# make test-slow - the tests marked slow (the benchmark harness end to end), which make test leaves out;
#                  make test TEST_MARKS=all runs both in one pass (what CI does)
# make serve - run under gunicorn with gunicorn.conf.py (production; set DATABASE_URL, SECRET_KEY and AUDIT_KEY)
# make worker - work the background job queue (set QUEUE_URL, and the same settings as the app)
# make bench - run the benchmarks and write BENCHMARKS.md

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app portfolio
STAMP  := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha1(open('pyproject.toml','rb').read()).hexdigest()[:12])")
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Tests run on every core (pytest-xdist); PYTEST_ARGS="-n 0" runs them in one process.
PYTEST_ARGS ?= -n auto --dist loadgroup
TEST_MARKS  ?= not slow

.PHONY: run test test-slow lint format setup db serve worker bench samples

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)

db: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) units sync
	$(FLASK) demo accounts

run: db
	$(FLASK) run --host $(HOST) --port $(PORT)

worker: $(STAMP)
	$(FLASK) jobs worker

serve: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) units sync
	$(BIN)/gunicorn --config gunicorn.conf.py 'portfolio:create_app()'

bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks.run

samples: $(STAMP)
	$(BIN)/python -m tests.exports.samples docs/samples

test: lint
	$(BIN)/python -m pytest $(if $(filter all,$(TEST_MARKS)),,-m "$(TEST_MARKS)") $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# Style, then the layers: a module imports only from its own layer or below (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
