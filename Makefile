# budget-disclosures — `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORPUS ?= ../shared/corpus/dev
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint format bench bench-real bench-regions bench-ablation bench-borderless bench-startup bench-large-folder bench-review bench-scale bench-ocr sample clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# bytecode for the project's own modules (an editable install leaves none; every
	# document process and Prefect start-up would compile them again where
	# PYTHONDONTWRITEBYTECODE is set)
	$(BIN)/python -m compileall -q budget_disclosures extractors mappings curation flows validation > /dev/null
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with dev extras

demo: $(STAMP)  ## ingest the samples in raw/ and show one query
	$(BIN)/disclosures ingest raw/samples --curated curated ; test $$? -le 1
	$(BIN)/python -m budget_disclosures.flows.demo --curated curated

test: $(STAMP)  ## the test suite (unit, golden, flow tests)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)  ## accuracy + throughput on the dev corpus (CORPUS=... to change)
	# throughput vs plain pdfplumber like for like: text-layer documents on both sides
	$(BIN)/python -m benchmarks.run --corpus $(CORPUS) --out benchmarks/out/dev-text --text-layer-only
	# accuracy on every document, scanned ones through OCR (no baseline: it reads no scans)
	$(BIN)/python -m benchmarks.run --corpus $(CORPUS) --out benchmarks/out/dev --skip-baseline
	$(BIN)/python -m benchmarks.score_narrative --curated benchmarks/out/dev/curated --corpus $(CORPUS)
	# one-off commands against the background server: cold, warm, 1 vs 2 workers, make demo
	$(BIN)/python -m benchmarks.startup --corpus $(CORPUS) --demo --json benchmarks/out/startup/report.json

bench-review: $(STAMP)  ## issue 17: review site of the real corpus (s/page, size) and the README screenshots
	rm -rf benchmarks/out/review-real
	$(BIN)/disclosures ingest ../shared/corpus/real --curated benchmarks/out/review-real/curated --workers 2 ; test $$? -le 1
	$(BIN)/python -m benchmarks.review --curated benchmarks/out/review-real/curated --out benchmarks/out/review-real/site --screenshots benchmarks/out/review-real/screenshots

bench-startup: $(STAMP)  ## issue 16: cold / warm command vs pdfplumber, start-up, 1 vs 2 workers, make demo
	$(BIN)/python -m benchmarks.startup --corpus $(CORPUS) --demo --json benchmarks/out/startup/report.json

bench-large-folder: $(STAMP)  ## ingest into a curated folder of 2000 stored documents vs an empty one
	$(BIN)/python -m benchmarks.large_folder --json benchmarks/out/large-folder/report.json

bench-scale: $(STAMP)  ## 1 vs 2 workers (4 rounds, ABBA; temporary and running Prefect server), memory, start-up
	$(BIN)/python -m benchmarks.scale --corpus $(CORPUS) --corpus ../shared/corpus/real --out benchmarks/out/scale --rounds 4 --running-server --json benchmarks/out/scale/report.json

bench-ocr: $(STAMP)  ## seconds per scanned page, one worker
	$(BIN)/python -m benchmarks.ocr_speed --per-doc 0

bench-real: $(STAMP)  ## identification + arithmetic on the real corpus
	$(BIN)/python -m benchmarks.run --corpus ../shared/corpus/real --out benchmarks/out/real

bench-regions: $(STAMP)  ## provinces without a template: tables found with the right kind, arithmetic
	rm -rf benchmarks/out/regions
	$(BIN)/disclosures ingest ../shared/corpus/real-regions --curated benchmarks/out/regions/curated ; test $$? -le 1
	$(BIN)/python -m benchmarks.regions --curated benchmarks/out/regions/curated

bench-borderless: $(STAMP)  ## dev-wide: line items by grid style, row recall of the structure readers, s/page by grid style
	rm -rf benchmarks/out/dev-wide
	$(BIN)/disclosures ingest ../shared/corpus/dev-wide --curated benchmarks/out/dev-wide/curated ; test $$? -le 1
	$(BIN)/python -m benchmarks.score --curated benchmarks/out/dev-wide/curated --corpus ../shared/corpus/dev-wide
	$(BIN)/python -m benchmarks.borderless --corpus ../shared/corpus/dev-wide --curated benchmarks/out/dev-wide/curated --json benchmarks/out/dev-wide/borderless.json

bench-ablation: $(STAMP)  ## dev and real corpora read with templates switched off (generic path alone)
	rm -rf benchmarks/out/ablation
	BUDGET_DISCLOSURES_TEMPLATES=off $(BIN)/disclosures ingest $(CORPUS) --curated benchmarks/out/ablation/dev ; test $$? -le 1
	$(BIN)/python -m benchmarks.score --curated benchmarks/out/ablation/dev --corpus $(CORPUS)
	BUDGET_DISCLOSURES_TEMPLATES=off $(BIN)/disclosures ingest ../shared/corpus/real --curated benchmarks/out/ablation/real ; test $$? -le 1
	$(BIN)/python -m benchmarks.real_report --curated benchmarks/out/ablation/real

sample: $(STAMP)  ## regenerate raw/samples from the seed's figures
	$(BIN)/python raw/samples/build_sample.py

clean:
	rm -rf curated/*/ benchmarks/out .pytest_cache
