#!/usr/bin/env bash
# Prints the system-metrics sampler's CPU cost per sample and as % of one core (target <= 1 %).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
cargo run --quiet --release -p trackway-sysmon --example overhead -- "${1:-300}"
