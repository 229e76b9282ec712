// Command capspec checks, explains, formats and evaluates the network
// permission flags of WebAssembly runtimes. See the README.
package main

import (
	"os"

	"github.com/capspec/capspec/cli"
)

func main() { os.Exit(cli.Main()) }
