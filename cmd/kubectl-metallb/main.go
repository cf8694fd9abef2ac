// Command kubectl-metallb is the kubectl plugin `kubectl metallb`: put it
// on the PATH and run `kubectl metallb --help`. See package
// internal/cli for the commands.
package main

import (
	"os"

	"github.com/ferrolb/ferrolb/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
