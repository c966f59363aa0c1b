//go:build race && !js

package main

func init() { raceEnabled = true }
