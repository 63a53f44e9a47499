// bmh-validate: baremetal-operator's own validation of BareMetalHost objects (the admission
// webhook's ValidateCreate, github.com/metal3-io/baremetal-operator/apis, unpatched), over the YAML
// files named on the command line. Prints one JSON object per BareMetalHost: its file, name and the
// webhook's errors (empty when it would admit it). Built from the Go module proxy for
// test/real/metal3.test.ts; never part of harvgen.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	metal3 "github.com/metal3-io/baremetal-operator/apis/metal3.io/v1alpha1"
	"sigs.k8s.io/yaml"
)

type result struct {
	File   string   `json:"file"`
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	Errors []string `json:"errors"`
}

func main() {
	out := []result{}
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fail(err)
		}
		for _, doc := range bytes.Split(data, []byte("\n---\n")) {
			if len(strings.TrimSpace(string(doc))) == 0 {
				continue
			}
			var meta struct {
				Kind string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				out = append(out, result{File: file, Errors: []string{fmt.Sprintf("not YAML: %v", err)}})
				continue
			}
			if meta.Kind != "BareMetalHost" {
				out = append(out, result{File: file, Kind: meta.Kind, Errors: []string{}})
				continue
			}
			host := &metal3.BareMetalHost{}
			if err := yaml.UnmarshalStrict(doc, host); err != nil {
				out = append(out, result{File: file, Kind: meta.Kind, Errors: []string{fmt.Sprintf("does not decode strictly: %v", err)}})
				continue
			}
			r := result{File: file, Kind: meta.Kind, Name: host.Name, Errors: []string{}}
			if _, err := (&metal3.BareMetalHost{}).ValidateCreate(context.Background(), host); err != nil {
				r.Errors = append(r.Errors, err.Error())
			}
			out = append(out, r)
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bmh-validate:", err)
	os.Exit(1)
}
