// Command cumulus checks, compiles, simulates and deploys the data-ingest
// pipelines of Earth-science archives described in *.cumulus.hcl files.
package main

import (
	"os"

	"github.com/cumulus-toolchain/cumulus/cmd/cumulus/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
