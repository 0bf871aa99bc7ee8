# Convenience targets; each is one plain command from the README.
.PHONY: up test bench build

up:
	go run ./cmd/bigfather up --demo

test:
	go test -timeout 30m ./...

bench:
	go test -run '^$$' -bench 'StageDemoEvents|JoinPause' -benchtime 1x ./internal/stage/

build:
	go build -o bigfather ./cmd/bigfather
