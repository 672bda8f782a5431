# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench venv clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (Django 5.2 on Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py load_demo
	@echo
	@echo "BZPEER is serving on http://$(HOST):$(PORT)/"
	@echo "Demo profile: http://$(HOST):$(PORT)/researchers/zhengyan-zhang/"
	@echo
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The suite runs in parallel (pytest-xdist), one process per core and one more: a process
# waiting on Chromium, a Celery worker it started or a server round trip leaves its core to
# the extra one (on 2 cores, 3 processes: SQLite 43-45 s against 48-49 s, PostgreSQL 91-94 s
# against 105 s). On one core it runs in a single process, without xdist. TEST_WORKERS=1 runs
# it serially anywhere, TEST_WORKERS=4 in four processes; PYTEST_ARGS come last (`-n 0` there
# wins too).
CORES := $(shell nproc 2>/dev/null || echo 1)
TEST_WORKERS ?= $(if $(filter 1,$(CORES)),1,$(shell echo $$(($(CORES) + 1))))
XDIST_ARGS = $(if $(filter-out 0 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist worksteal)

# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE, as on
# this kind of machine): otherwise every test process compiles the project and pytest rewrites
# every test module's asserts again, about 5 s each time a process starts.
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest $(XDIST_ARGS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) staticfiles test-output
