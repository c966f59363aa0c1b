//go:build !linux

package h2_test

import "os/exec"

// dieWithParent does nothing where the kernel cannot end a child with its
// parent.
func dieWithParent(*exec.Cmd) {}
