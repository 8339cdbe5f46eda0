//go:build !linux

package main

// stopWithGoRun does nothing where the parent's death cannot be signalled.
func stopWithGoRun() {}
