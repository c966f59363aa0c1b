package ws

// HostileRace tells the hostile-input suite (hostile_test.go, in package
// ws_test) whether the race detector is on: raceEnabled is set by the
// build tags of race_test.go and norace_test.go, which only this package
// sees. Under the race detector the suite checks codes, goroutines and
// times but not heap bounds, which the detector's shadow memory distorts.
const HostileRace = raceEnabled
