//go:build !amd64

package main

func addChain(n int) {}
func fmaPeak(n int)  {}
func bf16Peak(n int) {}
