package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

func runVersion(e *env, args []string) int {
	if len(args) > 0 {
		return usageError(e, "version", "unexpected argument %q", args[0])
	}
	version, revision := "(devel)", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" {
			version = v
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				revision = " " + s.Value[:12]
			}
		}
	}
	fmt.Fprintf(e.stdout, "cumulus %s%s %s %s/%s\n", version, revision, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
