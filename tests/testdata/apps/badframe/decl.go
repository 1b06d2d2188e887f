package main

func sigreturn(uc uintptr)
