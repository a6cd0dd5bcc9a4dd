//go:build !linux

package handlers

// runAtLowPriority runs fn: per-thread priorities are a Linux feature
// (lowprio_linux.go).
func runAtLowPriority(fn func()) { fn() }
