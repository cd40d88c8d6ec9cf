package importer

import (
	"fmt"
	"os"
	"strings"
)

// lockPath is the lock beside a results file, which two runs writing the same results take
// in turn: contacts.results.csv → contacts.results.csv.lock.
func lockPath(results string) string { return results + ".lock" }

// runLock is the lock of a run: held from before the output files are opened until the
// run ends, and dropped by the kernel if the process dies. The file itself is left in
// place (removing it would race with a run about to take it); it holds the holder's PID.
type runLock struct{ f *os.File }

func acquireLock(results string) (*runLock, error) {
	path := lockPath(results)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("cannot create the lock file: %v", pathErr(err))}
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, &ConfigError{Msg: fmt.Sprintf("cannot lock %s: %v", path, err)}
	}
	if !ok {
		holder, _ := os.ReadFile(path)
		f.Close()
		pid := strings.TrimSpace(string(holder))
		if pid != "" {
			pid = " (process " + pid + ")"
		}
		return nil, &ConfigError{Msg: fmt.Sprintf("another plannr-import run%s is importing into %s: it holds the lock %s. Wait for it to finish; two runs at once could send the same rows twice", pid, results, path)}
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return &runLock{f: f}, nil
}

func (l *runLock) release() {
	l.f.Close()
}
