package ipc

import "runtime"

func runtimeLockOSThread() { runtime.LockOSThread() }
