//go:build race && !js

package ws

const raceEnabled = true
