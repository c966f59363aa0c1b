module github.com/seed-d6ba7b20/ws/bench

go 1.26.0

replace github.com/seed-d6ba7b20/ws => ../

require (
	github.com/coder/websocket v1.8.15
	github.com/gobwas/ws v1.5.0
	github.com/gorilla/websocket v1.5.3
	github.com/lxzan/gws v1.8.9
	github.com/seed-d6ba7b20/ws v0.0.0
)

require (
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

require (
	github.com/dolthub/maphash v0.1.0 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/seed-d6ba7b20/ws/h2 v0.0.0
	golang.org/x/sync v0.25.0 // indirect
)

replace github.com/seed-d6ba7b20/ws/h2 => ../h2
