package h2_test

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes cmd end with the test binary that started it, so
// that a timeout that kills the parent kills the tests it runs too.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
