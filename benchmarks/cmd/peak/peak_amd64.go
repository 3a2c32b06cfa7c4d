package main

// Implemented in peak_amd64.s.
func addChain(n int)
func fmaPeak(n int)
func bf16Peak(n int)
