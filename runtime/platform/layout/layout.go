// Package layout owns where the platform keeps what it reads at run time
// in the configuration's private bucket: the compiled graph, the
// configuration the pollers load, and the suffix of granule manifests.
// deploy writes them and runtime/platform reads them; both import this.
package layout

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/cumulus-toolchain/cumulus/compiler/graph"
	"github.com/cumulus-toolchain/cumulus/lang"
)

// GraphKey is where deploy puts the compiled graph.
const GraphKey = graph.GraphKey

// ManifestSuffix ends the key of every granule manifest: the filter of the
// trigger's bucket notification.
const ManifestSuffix = ".cumulus.json"

// ConfigKey is where deploy puts the configuration's sources in the
// private bucket, for the pollers: polling needs the providers, sources
// and collections as the language reads them, which graph.json does not
// carry.
const ConfigKey = "cumulus/config.json"

// ConfigBundle is the configuration as deployed: its files, and the values
// its variables were given other than their defaults. Sensitive variables
// are left out: the pollers read those from their environment
// (CUMULUS_VAR_name), as `cumulus simulate` does.
type ConfigBundle struct {
	Files map[string]string `json:"files"`
	Vars  []lang.VarArg     `json:"vars,omitempty"`
}

// NewConfigBundle encodes cfg's files and variable values.
func NewConfigBundle(cfg *lang.Config) ([]byte, error) {
	b := ConfigBundle{Files: map[string]string{}}
	for name, f := range cfg.Files {
		b.Files[filepath.Base(name)] = string(f.Bytes)
	}
	for _, v := range cfg.Variables {
		if v.Sensitive || v.ValueFrom == "" || v.ValueFrom == "default" || v.Value == cty.NilVal || !v.Value.IsWhollyKnown() || v.Value.IsNull() {
			continue
		}
		val := ""
		if v.Value.Type() == cty.String {
			val = v.Value.AsString()
		} else {
			j, err := ctyjson.Marshal(v.Value, v.Value.Type())
			if err != nil {
				return nil, fmt.Errorf("variable %s: %w", v.Name, err)
			}
			val = string(j)
		}
		b.Vars = append(b.Vars, lang.VarArg{Name: v.Name, Value: val})
	}
	sort.Slice(b.Vars, func(i, j int) bool { return b.Vars[i].Name < b.Vars[j].Name })
	return json.MarshalIndent(b, "", "  ")
}

// SecretsKey is where deploy keeps the distribution's secrets: the key
// every instance of the distribution (and of a dashboard behind it) signs
// links and tokens with, made once by the first deploy and kept, so
// tokens and links outlive a redeploy; and the local users' passwords
// when the deployer gives them (CUMULUS_DIST_USERS at deploy time). Only
// the functions that serve a distribution may read it.
const SecretsKey = graph.SecretsKey

// Secrets is the content of SecretsKey.
type Secrets struct {
	// Key is the signing key, base64 (32 random bytes).
	Key string `json:"key"`
	// Users is NAME:PASSWORD,... as CUMULUS_DIST_USERS takes it.
	Users string `json:"users,omitempty"`
}
