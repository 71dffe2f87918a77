package stdlib

import "github.com/cumulus-toolchain/cumulus/lang/suggest"

func didYouMean(given string, names []string) string { return suggest.DidYouMean(given, names) }
