#!/usr/bin/env bash
# Start the API server and a worker in CI.
set -euo pipefail

HOST=api.example.com

# capspec:ignore CS204 the API is public
wasmtime serve \
  --allow-inbound='tcp://*:8080' \
  --allow-outbound="tcp://db.internal:5432" \
  --allow-resolve '*.co.uk' \
  api.wasm

RUST_LOG=debug WASMTIME_NEW_CLI=1 spin up --allow-outbound=tcp://example.com:443 \
  --allow-outbound=tcp://$HOST:443 --allow-resolve=example.com  # ipv4 only below
