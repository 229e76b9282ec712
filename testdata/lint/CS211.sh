# a family modifier after a blank is a comment in a script too
wasmtime run --allow-outbound=tcp://example.com:443 #ipv4-only # want CS211
# close, not reported: attached, quoted
wasmtime run --allow-outbound=tcp://example.com:443#ipv4-only app.wasm
wasmtime run '--allow-outbound=tcp://example.com:443#ipv6-only' app.wasm
