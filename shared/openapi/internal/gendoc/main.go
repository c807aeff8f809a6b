// Command gendoc writes the JSON form of the OpenAPI document (go generate in shared/openapi):
//
//	go run ./internal/gendoc openapi.yaml openapi.json
package main

import (
	"fmt"
	"os"

	"github.com/portcommunity/cpu/shared/openapi/internal/yamljson"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gendoc SOURCE.yaml TARGET.json")
		os.Exit(2)
	}
	src, err := os.ReadFile(os.Args[1])
	if err == nil {
		var out []byte
		if out, err = yamljson.Convert(src); err == nil {
			err = os.WriteFile(os.Args[2], out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
