//go:build !unix

package cli

import "os"

// terminalWidth is def where the terminal's size is not asked for.
func terminalWidth(f *os.File, def uint) uint { return def }
