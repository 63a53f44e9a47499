// containers-copy: `skopeo copy --all` as a library call. It copies an image (an index and every
// manifest it names) with containers/image's own copy.Image, CopyAllImages, from a registry into a
// local directory, under a signature policy read from a policy.json, with the registries.d
// configuration, CA directory and auth file given: what podman, skopeo, CRI-O and `skopeo sync`
// do. Prints "copied <digest>" and exits 0, or prints the error and exits 1 (3 for usage or
// setup). Built by buildOracle for test/real/containers-image.test.ts; never part of harvgen.
//
// Usage: containers-copy <policy.json> <registries.d> <cert dir> <auth.json> <docker://host/repo:tag|@digest> <dest dir>
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containers/image/v5/copy"
	"github.com/containers/image/v5/directory"
	"github.com/containers/image/v5/docker"
	"github.com/containers/image/v5/manifest"
	"github.com/containers/image/v5/signature"
	"github.com/containers/image/v5/types"
)

func main() {
	if len(os.Args) != 7 {
		setup(fmt.Errorf("usage: containers-copy <policy.json> <registries.d> <cert dir> <auth.json> <docker://ref> <dest dir>"))
	}
	policyPath, registriesD, certDir, authFile, src, dest := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6]
	const prefix = "docker:"
	if len(src) < len(prefix)+2 || src[:len(prefix)+2] != prefix+"//" {
		setup(fmt.Errorf("%s: not docker://<reference>", src))
	}
	srcRef, err := docker.ParseReference(src[len(prefix):])
	if err != nil {
		setup(err)
	}
	destRef, err := directory.NewReference(dest)
	if err != nil {
		setup(err)
	}
	// Nothing of the machine's own configuration: an empty registries.conf, the given registries.d.
	empty := filepath.Join(filepath.Dir(dest), "registries.conf")
	if err := os.WriteFile(empty, []byte{}, 0o644); err != nil {
		setup(err)
	}
	sys := &types.SystemContext{
		SignaturePolicyPath:         policyPath,
		RegistriesDirPath:           registriesD,
		SystemRegistriesConfPath:    empty,
		SystemRegistriesConfDirPath: filepath.Join(filepath.Dir(dest), "registries.conf.d"),
		DockerCertPath:              certDir,
		AuthFilePath:                authFile,
		BlobInfoCacheDir:            filepath.Join(filepath.Dir(dest), "blob-info-cache"),
	}
	policy, err := signature.NewPolicyFromFile(policyPath)
	if err != nil {
		setup(err)
	}
	pc, err := signature.NewPolicyContext(policy)
	if err != nil {
		setup(err)
	}
	defer func() { _ = pc.Destroy() }()
	raw, err := copy.Image(context.Background(), pc, destRef, srcRef, &copy.Options{
		ImageListSelection: copy.CopyAllImages,
		SourceCtx:          sys,
		DestinationCtx:     sys,
		ReportWriter:       os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d, err := manifest.Digest(raw)
	if err != nil {
		setup(err)
	}
	fmt.Printf("copied %s\n", d)
}

func setup(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(3)
}
