module github.com/seed-d6ba7b20/ws/interop

go 1.26

require (
	github.com/seed-d6ba7b20/ws v0.0.0
	go.uber.org/goleak v1.3.0
)

replace github.com/seed-d6ba7b20/ws => ../
