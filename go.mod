module github.com/seed-d6ba7b20/ws

go 1.26.0

require (
	github.com/klauspost/compress v1.20.4
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.25.0
)
