package h2_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the tests in a process whose environment has
// GODEBUG=http2xconnect=1, without which net/http's server neither
// advertises extended CONNECT nor takes it: net/http reads the variable
// once, when the process starts, so the test binary starts itself again
// with it.
func TestMain(m *testing.M) {
	if os.Getenv(plainServerEnv) == "1" {
		servePlain() // for TestFallback
		return
	}
	if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		os.Exit(rerun())
	}
	goleak.VerifyTestMain(m)
}

// rerun runs the test binary again with the variable, and returns its
// exit code.
func rerun() int {
	godebug := "http2xconnect=1"
	if v := os.Getenv("GODEBUG"); v != "" {
		godebug = v + "," + godebug
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), "GODEBUG="+godebug)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	dieWithParent(cmd)
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		os.Stderr.WriteString("h2: running the tests with GODEBUG=http2xconnect=1: " + err.Error() + "\n")
		return 1
	}
	return 0
}
