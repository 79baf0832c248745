module example.com/demo

go 1.20

require (
	github.com/gin-gonic/gin v1.5.0
	golang.org/x/net v0.10.0
)
