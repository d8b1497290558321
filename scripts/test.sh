#!/usr/bin/env bash
# Runs the whole suite (unit tests beside the code, integration tests under test/) with node:test.
# Ends with a plain "N passed, N failed, N skipped" line. Extra arguments are passed to node --test.
set -euo pipefail
cd "$(dirname "$0")/.."
# Integration tests run the shipped bin/berth.js and bin/berthd.js: build them from the current sources.
npm run -s build
mapfile -t files < <(find src test bench -name '*.test.ts' | sort)
exec node --import tsx --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./test/summary-reporter.mjs --test-reporter-destination=stdout "$@" "${files[@]}"
