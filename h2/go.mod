module github.com/seed-d6ba7b20/ws/h2

go 1.26.0

require (
	github.com/seed-d6ba7b20/ws v0.0.0
	go.uber.org/goleak v1.3.0
	golang.org/x/net v0.62.0
)

require (
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/seed-d6ba7b20/ws => ../
