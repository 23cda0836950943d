// Command synth writes a synthetic CWL application package for the bench
// script: synth -n TOOLS -o DIR [-split].
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/eoap/cwlbuild/internal/synth"
)

func main() {
	n := flag.Int("n", 100, "number of tools")
	out := flag.String("o", "", "directory to write (created)")
	split := flag.Bool("split", false, "one single-process CWL file per tool, instead of one packed workflow")
	flag.Parse()
	if *out == "" || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: synth -n TOOLS -o DIR")
		os.Exit(2)
	}
	write := synth.Write
	if *split {
		write = synth.WriteSplit
	}
	if _, err := write(*out, *n); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}
