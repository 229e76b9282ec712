# check: CS204,CS206,CS013,CS900
# A suppression above a command silences every flag of it, on every line.
# capspec:ignore CS204 the API is public
RUST_LOG=info wasmtime serve \
  --allow-inbound='tcp://*:8080' \
  --allow-outbound="tcp://db.internal:5432" \
  --allow-inbound 'tcp://*:8081' \
  api.wasm

# At the end of the command's last line: the flags of that line.
# want@+2 CS204
wasmtime serve \
  --allow-inbound='tcp://*:8082' \
  --allow-inbound='tcp://*:8083' # capspec:ignore CS204 the last one only

# At the end of a last line that holds no flag: the whole command.
wasmtime serve \
  --allow-inbound='tcp://*:8084' \
  --allow-inbound='tcp://*:8085' \
  api.wasm # capspec:ignore CS204 the whole command

# Findings outside the flags of the command too (a computed value).
# capspec:ignore CS013,CS204 PORT is set by the CI
wasmtime run --allow-inbound='tcp://*:8086' \
  --allow-outbound=tcp://api:$PORT app.wasm

# Only the command below.
# capspec:ignore CS204 the next command only
wasmtime run --allow-inbound='tcp://*:8087' app.wasm
wasmtime run --allow-inbound='tcp://*:8088' app.wasm # want CS204
wasmtime run \
  --allow-outbound=tcp://api:$PORT app.wasm # want CS013

# A blank line ends the block above a command.
# capspec:ignore CS204 too far away

wasmtime run \
  --allow-inbound='tcp://*:8089' app.wasm # want CS204
