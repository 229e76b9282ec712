#!/bin/sh
start() {
	wasmtime run --allow-outbound=tcp://a.example.com:80 "$@" app.wasm
}

if [ -n "$CI" ]; then
	wasmer run --allow-outbound=udp://1.1.1.1:53 dns.wasm | tee log.txt && echo done
else
	(cd build && wasmtime run --allow-inbound=tcp://localhost:8080 app.wasm)
fi

for p in 80 443; do
	wasmtime run --allow-outbound="tcp://example.com:$p" app.wasm
done

cat <<EOF2
wasmtime run --allow-outbound=tcp://not-a-command.example:80
EOF2

out=$(wasmtime run --allow-outbound=tcp://sub.example.com:70000 app.wasm)
v=`wasmtime run --allow-outbound=tcp://bq.example.com:\$PORT`
w=`wasmtime run --allow-outbound='tcp://bq.example.com:70000' --allow-outbound=tcp://a\\b.example.com:80`
wasmtime run \
	--allow-outbound \
	"udp://[2001:db8::1]:53" app.wasm
