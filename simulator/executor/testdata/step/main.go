// Command step is the program of the Docker executor's engine test: built
// static and copied into an image FROM scratch, it plays a pipeline step.
//
//	step upper    writes each input file upper-cased to out/NAME.upper
//	step exit N   exits with code N
//	step sleep    sleeps until killed
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: step upper|exit N|sleep")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "upper":
		fmt.Printf("step %s of granule %s, attempt %s\n", os.Getenv("CUMULUS_STEP"), granuleID(), os.Getenv("CUMULUS_ATTEMPT"))
		fmt.Fprintln(os.Stderr, "to stderr")
		in, out := os.Getenv("CUMULUS_INPUT_DIR"), os.Getenv("CUMULUS_OUTPUT_DIR")
		entries, err := os.ReadDir(in)
		if err != nil {
			fail(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(in, e.Name()))
			if err != nil {
				fail(err)
			}
			if err := os.WriteFile(filepath.Join(out, e.Name()+".upper"), bytes.ToUpper(b), 0o644); err != nil {
				fail(err)
			}
		}
	case "exit":
		code, _ := strconv.Atoi(os.Args[2])
		os.Exit(code)
	case "sleep":
		time.Sleep(time.Hour)
	}
}

// granuleID picks the id out of CUMULUS_GRANULE without a JSON parser, to
// keep the binary small.
func granuleID() string {
	g := []byte(os.Getenv("CUMULUS_GRANULE"))
	i := bytes.Index(g, []byte(`"id":"`))
	if i < 0 {
		return "?"
	}
	g = g[i+6:]
	return string(g[:bytes.IndexByte(g, '"')])
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
