//go:build linux

package handlers

import (
	"runtime"
	"syscall"
)

// importNice is the nice value of the thread an import job runs on. On
// SQLite the job's whole work (parsing, SQL, B-tree writes) runs in its own
// goroutine, so at nice 10 the kernel gives the request threads the cores
// first while an import runs, and the job still has any core nobody else
// wants: full speed on an idle instance. 10, not 19, so that low-priority
// batch work elsewhere on the machine doesn't starve it.
const importNice = 10

// runAtLowPriority runs fn on an OS thread of its own at importNice and
// waits for it. The thread is never unlocked: it ends with its goroutine, so
// no other goroutine ever runs on a lowered thread (a process that is not
// root could not raise it back).
func runAtLowPriority(fn func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		// Linux applies the nice value of PRIO_PROCESS with a thread id to
		// that thread alone. A failure leaves the job at normal priority.
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), importNice)
		defer close(done)
		fn()
	}()
	<-done
}
