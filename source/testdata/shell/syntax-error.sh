wasmtime run --allow-outbound="tcp://example.com:80 app.wasm
