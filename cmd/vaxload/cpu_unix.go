//go:build unix

package main

import (
	"syscall"
	"time"
)

// selfCPU is this process's CPU time so far (user and system): vaxload
// shares the machine with the server, so what it spends is part of the
// picture.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
