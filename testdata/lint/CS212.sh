# an unquoted * in a flag word
wasmtime run --allow-outbound=tcp://*:443 app.wasm # want CS212
wasmtime run --allow-resolve=*.example.com app.wasm # want CS212
# partly quoted
wasmtime run --allow-outbound="tcp://"*:443 app.wasm # want CS212
# on a continuation line
wasmtime run \
  --allow-inbound=tcp://*:8080 \
  app.wasm # want@-1 CS212
# close, not reported: quoted, escaped, or a * in another word
wasmtime run --allow-outbound='tcp://*:443' app.wasm
wasmtime run "--allow-resolve=*.example.com" app.wasm
wasmtime run --allow-outbound=tcp://\*:443 app.wasm
wasmtime run --allow-outbound='tcp://example.com:443' *.wasm
