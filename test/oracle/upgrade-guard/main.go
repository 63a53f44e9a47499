// Harvester's own upgrade version guard, run on the hops harvgen judges (test/real/upgrade-guard.test.ts).
//
// It reads a JSON array of hops ({"from", "to", "min"}) on standard input and writes, for each,
// what harvester/go-common's version package answers, built against the go-common and semver
// versions the target release's go.mod pins (one -modfile per pin: go.<pin>.mod beside this file).
// Each hop is judged the way Harvester's upgrade controller does (pkg/upgradehelper/versionguard,
// Check): from, to and the target's minUpgradableVersion parsed with version.NewHarvesterVersion
// (a minimum that does not parse is none), then CheckUpgradeEligibility in strict mode. This file
// is harvgen's own; the guard is go-common's, downloaded unmodified through the Go module proxy.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/harvester/go-common/version"
)

type hop struct {
	From string `json:"from"`
	To   string `json:"to"`
	Min  string `json:"min"`
}

type outcome struct {
	hop
	Allowed bool   `json:"allowed"`
	Error   string `json:"error,omitempty"`
}

func judge(h hop) outcome {
	o := outcome{hop: h}
	from, err := version.NewHarvesterVersion(h.From)
	if err != nil {
		o.Error = err.Error()
		return o
	}
	to, err := version.NewHarvesterVersion(h.To)
	if err != nil {
		o.Error = err.Error()
		return o
	}
	min, err := version.NewHarvesterVersion(h.Min)
	if err != nil {
		if !errors.Is(err, version.ErrInvalidVersion) {
			o.Error = err.Error()
			return o
		}
		min = nil
	}
	if err := version.NewHarvesterUpgradeVersion(from, to, min).CheckUpgradeEligibility(true); err != nil {
		o.Error = err.Error()
		return o
	}
	o.Allowed = true
	return o
}

func main() {
	var hops []hop
	if err := json.NewDecoder(os.Stdin).Decode(&hops); err != nil {
		fmt.Fprintln(os.Stderr, "upgrade-guard: the hops on standard input:", err)
		os.Exit(2)
	}
	out := make([]outcome, 0, len(hops))
	for _, h := range hops {
		out = append(out, judge(h))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "upgrade-guard:", err)
		os.Exit(2)
	}
}
