// flux-pull: pulls an OCI artifact with Flux's own library (github.com/fluxcd/pkg/oci, the code
// source-controller's OCIRepository and `flux pull artifact` use), unpacks it into a directory and
// prints what it found as JSON: the digest, the revision annotation and every file's path. Built
// by scripts/install-flux-pull.sh for test/real/flux.test.ts; never part of harvgen.
//
// Usage: flux-pull <oci url without oci://> <out dir> <ca file> <user> <password>
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"

	"github.com/fluxcd/pkg/oci"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
)

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: flux-pull <url> <out dir> <ca file> <user> <password>")
		os.Exit(2)
	}
	url, out, caFile, user, password := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5]
	pem, err := os.ReadFile(caFile)
	if err != nil {
		fail(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		fail(fmt.Errorf("no certificate in %s", caFile))
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: pool}
	opts := append(oci.DefaultOptions(),
		crane.WithAuth(&authn.Basic{Username: user, Password: password}),
		crane.WithTransport(transport),
	)
	client := oci.NewClient(opts)
	meta, err := client.Pull(context.Background(), url, out)
	if err != nil {
		fail(err)
	}
	files := []string{}
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		fail(err)
	}
	sort.Strings(files)
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"digest": meta.Digest, "revision": meta.Revision, "created": meta.Created, "files": files})
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "flux-pull:", err)
	os.Exit(1)
}
