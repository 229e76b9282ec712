wasmtime run --allow-outbound="tcp://example.com:70000" app.wasm
wasmtime run --allow-outbound='tcp://exa'"mple.com:8o" app.wasm
wasmtime run --allow-outbound=tcp://exa\
mple.com:99999 app.wasm
wasmtime run --allow-outbound=$'tcp://exa\u200bmple.com:80' app.wasm
wasmtime run --allow-outbound=tcp://example.com:80 #ipv4-only
wasmtime run --allow-inbound=tcp://*:80->8888 app.wasm
wasmtime run --allow-outboud=tcp://example.com:80 --allow-env=FOO --allow-read=/tmp
wasmtime run --allow-outbound=tcp://{a,b}.example.com:443 --allow-$KIND=x
wasmtime run --allow-resolve
