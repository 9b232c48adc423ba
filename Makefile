# Herald: make run starts it standalone; make test runs every check CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
GOBIN     := $(shell $(GO) env GOPATH)/bin
BIN       := bin/herald
LINT      := $(GOBIN)/golangci-lint
LINT_VER  := v2.15.0
ADDR      ?= 127.0.0.1:8080
DATA_DIR  ?= ./data
PKGS      := ./...
export CGO_ENABLED := 0

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: build
build: ## build the herald binary into bin/
	$(GO) build -trimpath -ldflags "-s -w -X main.version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o $(BIN) ./functions

.PHONY: run
run: build ## build and start Herald standalone; prints the URL and an admin token
	@mkdir -p $(DATA_DIR)
	@token=$$(HERALD_DATA_DIR=$(DATA_DIR) ./$(BIN) token --tenant demo --role admin --subject demo-admin --ttl 24h); \
	echo; echo "Herald: http://$(ADDR)/"; \
	echo "API document: http://$(ADDR)/api/openapi.json"; \
	echo "Admin token for tenant demo (valid 24h):"; echo "$$token"; \
	echo "Try: curl -H \"Authorization: Bearer $$token\" http://$(ADDR)/api/v1/me"; echo; \
	HERALD_ADDR=$(ADDR) HERALD_DATA_DIR=$(DATA_DIR) exec ./$(BIN) serve

.PHONY: tools
tools: ## install the pinned linter when it is missing
	@if ! $(LINT) version 2>/dev/null | grep -q "$(LINT_VER:v%=%)"; then \
		echo "installing golangci-lint $(LINT_VER) (a few minutes on a new machine)"; \
		CGO_ENABLED=1 $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(LINT_VER); \
	fi

.PHONY: fmt-check
fmt-check: ## fail when gofmt would change a file
	@files=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './web/*')); \
	if [ -n "$$files" ]; then echo "gofmt would change:"; echo "$$files"; exit 1; fi

.PHONY: vet
vet: ## go vet
	$(GO) vet $(PKGS)

.PHONY: lint
lint: tools ## golangci-lint (complexity limit 15, gosec)
	$(LINT) run $(PKGS)

.PHONY: test-tools
test-tools: ## install what the tests use when missing: qpdf, poppler-utils, chromium (Debian), Azurite (npm, tools/)
	@scripts/services.sh tools

.PHONY: unit
unit: test-tools ## all Go tests with the race detector; coverage per package (starts PostgreSQL, MariaDB, Azurite if down)
	@scripts/services.sh up
	@trap 'scripts/services.sh down' EXIT; \
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m -covermode=atomic -coverprofile=coverage.out $(PKGS) | tee test-output.txt
	@echo; echo "coverage per package:"; grep -E '^(ok|---|FAIL)' test-output.txt | grep -o 'github.com/[^ ]*.*coverage: [0-9.]*%' | awk '{print "  " $$1 "  " $$NF}' || true
	@$(GO) tool cover -func=coverage.out | tail -1

.PHONY: simulate
simulate: ## the scheduler's simulated week at full size (10,000 schedules; too slow under -race)
	$(GO) test -count=1 -run '^TestSimulated' -v ./internal/scheduler/ | grep -E '^(=== RUN|--- |PASS|FAIL|ok)|simulat' 

.PHONY: fuzz
fuzz: ## short fuzzing runs of the parsers
	@set -e; for target in $$(grep -rl --include='*_test.go' '^func Fuzz' internal | xargs -n1 dirname | sort -u); do \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$target/*_test.go | sed 's/func //'); do \
			echo "fuzz $$target $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=10s ./$$target; \
		done; \
	done

.PHONY: test
test: fmt-check vet lint unit simulate fuzz bench-generate ## every check CI runs
	@echo "make test: all checks passed"

.PHONY: bench-scheduler
bench-scheduler: ## scanner benchmarks: due among 10k vs 1M schedules, 10k due at once; cron engine vs robfig/cron
	$(GO) test -run='^$$' -bench='^BenchmarkScan' -benchtime=1x -timeout 30m ./internal/scheduler/
	$(GO) test -run='^$$' -bench='^BenchmarkCompare' -benchmem ./internal/cronexpr/

.PHONY: bench-api
bench-api: ## load benchmark: 100 clients, 100 tenants x 1,000 reports; prints p50/p95/p99 and req/s
	$(GO) test -run='^$$' -bench='^BenchmarkAPILoad$$' -benchtime=1x -timeout 30m ./internal/httpapi/

.PHONY: bench-generate
bench-generate: test-tools ## report output: CSV of 1M PostgreSQL rows vs psql \copy (RSS at 100k/1M); PDF of 10k rows vs Chromium
	@scripts/services.sh up
	@trap 'scripts/services.sh down' EXIT; \
	$(GO) test -run='^$$' -bench='^BenchmarkCSVFromPostgres$$' -benchtime=1x -timeout 10m ./internal/generate/ && \
	$(GO) test -run='^$$' -bench='^BenchmarkPDFvsChromium$$' -benchtime=1x -timeout 10m ./internal/render/

.PHONY: clean
clean: ## remove build output (keeps ./data)
	rm -rf bin coverage.out test-output.txt
