// Command measure runs a command several times and prints the median wall
// time in seconds and the largest peak resident set in MB, for bench/run.sh.
// Timing inside one process keeps the shell's own fork and exec costs (a few
// milliseconds, as much as a small generate run) out of the figures.
//
//	measure [-n RUNS] -- COMMAND [ARGS...]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("n", 5, "number of runs")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 || *runs < 1 {
		fmt.Fprintln(os.Stderr, "usage: measure [-n RUNS] -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	var times []time.Duration
	var peakKB int64
	for i := 0; i < *runs; i++ {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stderr = os.Stderr
		start := time.Now()
		err := cmd.Run()
		elapsed := time.Since(start)
		if err != nil {
			fmt.Fprintf(os.Stderr, "measure: %s: %v\n", args[0], err)
			os.Exit(1)
		}
		times = append(times, elapsed)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > peakKB {
			peakKB = ru.Maxrss // kilobytes on Linux
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Printf("%.3f %.0f\n", times[len(times)/2].Seconds(), float64(peakKB)/1024)
}
