// Command launcher runs a command and writes the peak resident set of that
// command, in bytes, to the file named by its first argument. The
// reliability tests measure vaxverify through it: on Linux a process started
// straight from a large one (the test) inherits that process's high-water
// mark, so the launcher, small when it forks, stands in between.
//
//	launcher RSS-FILE COMMAND [ARG]...
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: launcher RSS-FILE COMMAND [ARG]...")
		os.Exit(125)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "launcher:", err)
		os.Exit(125)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		// Linux reports kilobytes.
		if err := os.WriteFile(os.Args[1], []byte(strconv.FormatInt(ru.Maxrss<<10, 10)), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "launcher:", err)
			os.Exit(125)
		}
	}
	os.Exit(code)
}
