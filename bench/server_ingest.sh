#!/usr/bin/env bash
# Server-side ingest throughput (issue 3): zstd batches of history rows (10 metrics each)
# through the full router, one durable (synchronous=FULL) transaction per batch. Prints points/s.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
cargo run --quiet --release -p trackway-server --bin ingest-bench -- "${1:-200000}" "${2:-5000}"
