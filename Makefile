# sfpms: two commands for a newcomer (`make run`, `make test`); `make help` lists the rest.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements/dev.lock
TOOLS  := .venv-tools

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck unit integration smoke-tansu faults-full bench docs proto clean venv lock lock-upgrade system-deps

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# Installs exactly what the lock pins, every file checked against its hash (README.md
# "Supply chain"); the project itself goes in last without resolving anything. The check
# stops here, with what to do, when pyproject.toml lists other dependencies than the lock.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) scripts/lock.py check
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)  ## create/refresh the virtualenv in .venv (from requirements/dev.lock)

$(TOOLS)/.installed: requirements/tools.lock
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --require-hashes -r requirements/tools.lock
	@touch $@

lock: $(TOOLS)/.installed  ## after editing dependencies in pyproject.toml: re-pin requirements/*.lock (commit them)
	$(TOOLS)/bin/python scripts/lock.py compile --uv $(TOOLS)/bin/uv

lock-upgrade: $(TOOLS)/.installed  ## re-pin every dependency at the newest version pyproject.toml allows
	$(TOOLS)/bin/python scripts/lock.py compile --uv $(TOOLS)/bin/uv --upgrade

run: $(STAMP)  ## start the whole embedded stack in the foreground (Ctrl-C stops it)
	$(BIN)/sfpms up

test: $(STAMP)  ## ruff, import contracts, mypy and the full test suite (noida-db, then a smoke subset on Tansu)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/mypy tests benchmarks scripts
	$(BIN)/python scripts/pytest_gate.py --durations=30 tests
	SFPMS_TEST_BROKER=tansu $(BIN)/python scripts/pytest_gate.py -m smoke tests/integration

lint: $(STAMP)  ## ruff check + format check + import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)  ## mypy on the packages, the tests, benchmarks and scripts
	$(BIN)/mypy
	$(BIN)/mypy tests benchmarks scripts

unit: $(STAMP)  ## unit tests only
	$(BIN)/python scripts/pytest_gate.py tests/unit

integration: $(STAMP)  ## integration tests only (noida-db)
	$(BIN)/python scripts/pytest_gate.py tests/integration

smoke-tansu: $(STAMP)  ## smoke subset on the Tansu broker
	SFPMS_TEST_BROKER=tansu $(BIN)/python scripts/pytest_gate.py -m smoke tests/integration

faults-full: $(STAMP)  ## the full fault suite, three runs in a row, each with a new seed (long)
	@for run in 1 2 3; do \
		echo "== faults-full: run $$run of 3 (a new seed; the header and summary print it)"; \
		SFPMS_FAULTS_FULL=1 $(BIN)/python scripts/pytest_gate.py tests/faults || exit 1; \
	done

bench: $(STAMP)  ## run the benchmarks and print figures
	$(BIN)/sfpms bench all

docs: $(STAMP)  ## regenerate docs/dataflow.rst
	$(BIN)/sfpms docs dataflow

PROTO_DIR := connectors/salesforce/pubsub/proto
# Generated twice from one .proto: the product's client and the emulator may not import
# each other, and identical descriptors ("pubsub_api.proto") share one protobuf pool.
PROTO_OUT := $(PROTO_DIR) emulators/salesforce/pubsub/proto

proto: $(STAMP)  ## regenerate the Salesforce Pub/Sub API gRPC modules from $(PROTO_DIR)/pubsub_api.proto
	for out in $(PROTO_OUT); do \
	  $(BIN)/python -m grpc_tools.protoc -I$(PROTO_DIR) --python_out=$$out --pyi_out=$$out \
	    --grpc_python_out=$$out $(PROTO_DIR)/pubsub_api.proto && \
	  sed -i 's/^import pubsub_api_pb2 as/from . import pubsub_api_pb2 as/' $$out/pubsub_api_pb2_grpc.py \
	    || exit 1; \
	done

system-deps:  ## install the Debian tools the deployment and browser tests use (they also do it on demand)
	apt-get update -q && apt-get install -y -q --no-install-recommends prometheus prometheus-alertmanager chromium

clean:  ## remove the virtualenv and local state
	rm -rf $(VENV) $(TOOLS) .sfpms .pytest_cache .mypy_cache .ruff_cache
