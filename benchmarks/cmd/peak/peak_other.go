//go:build !amd64

package main

func addChain(n int) {}
func fmaPeak(n int)  {}
