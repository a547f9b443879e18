#!/usr/bin/env bash
# Run-table query benchmark (issue 4): 100,000 runs x (50 config + 20 summary keys), then
# filter + sort + first page of 50 (with total) for several query shapes; prints cold (first
# use of a key: builds its expression index) and warm (median of 5) milliseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
cargo run --quiet --release -p trackway-store --bin runs-bench -- "${1:-100000}"
