// flux-docs: takes the Flux objects a user copies from harvgen's docs the way Flux would, with
// Flux's own packages, and says how far they get. Built for test/real/flux.test.ts; never part of
// harvgen.
//
// It reads a JSON request on standard input: the docs' YAML (every OCIRepository and Kustomization,
// as one multi-document stream), URL rewrites (the docs' registry to the test registry), the
// registry's CA file and credentials, and the objects the cluster holds already. Then:
//   - each object is decoded strictly into Flux's API types (source-controller api/v1
//     OCIRepository, kustomize-controller api/v1 Kustomization, the versions flux2 v2.9.5 pins): a
//     field Flux does not know is an error, as the API server's CRD schema makes it;
//   - each OCIRepository is fetched with Flux's OCI client (fluxcd/pkg/oci) from its tag or
//     digest, its first layer extracted as tar+gzip (source-controller's default, no layerSelector);
//   - the Kustomizations reconcile in rounds as kustomize-controller does: a suspended one waits,
//     one whose `dependsOn` is not Ready waits (kustomize-controller's checkDependencies), the
//     others build their path with Flux's kustomize generator and SecureBuild (fluxcd/pkg/kustomize,
//     what kustomize-controller builds with), dry-run every object of the build before applying any
//     (ssa's ApplyAll), and are Ready once all are applied;
//   - the dry-run is judged by the admission rule Harvester's webhook applies to these objects (an
//     Upgrade names a Version that exists in its namespace: harvester/harvester
//     pkg/webhook/resources/upgrade/validator.go). That one rule is re-derived here: no API server
//     and no Harvester webhook run in this test.
//
// With "resume": true, the suspended Kustomizations are resumed after a first pass (what the docs
// tell the user to do when the upgrade starts), and reconciled again.
// It writes one JSON object: per object, whether it got Ready, what it applied and why not.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/kustomize"
	"github.com/fluxcd/pkg/oci"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

type rewrite struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type request struct {
	Docs     string    `json:"docs"`
	Rewrites []rewrite `json:"rewrites"`
	CA       string    `json:"ca"`
	User     string    `json:"user"`
	Password string    `json:"password"`
	// Objects the cluster holds already, as "Kind/namespace/name".
	Existing []string `json:"existing"`
	Resume   bool     `json:"resume"`
}

type result struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Ready     bool   `json:"ready"`
	Suspended bool   `json:"suspended,omitempty"`
	Round     int    `json:"round,omitempty"`
	// Reconciliations that failed before it got Ready (or gave up).
	Failures int      `json:"failures"`
	Applied  []string `json:"applied,omitempty"`
	Files    []string `json:"files,omitempty"`
	Error    string   `json:"error,omitempty"`
}

type source struct {
	obj *sourcev1.OCIRepository
	dir string
	res *result
}

type kust struct {
	obj *kustomizev1.Kustomization
	res *result
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fail(err)
	}
	client := ociClient(req)
	work, err := os.MkdirTemp("", "flux-docs-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(work)

	var results []*result
	sources := map[string]*source{}
	var kusts []*kust
	reader := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(req.Docs)))
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			fail(err)
		}
		res := &result{Kind: head.Kind, Name: head.Metadata.Name}
		results = append(results, res)
		switch head.Kind {
		case sourcev1.OCIRepositoryKind:
			var o sourcev1.OCIRepository
			if err := yaml.UnmarshalStrict(doc, &o); err != nil {
				res.Error = "decoding: " + err.Error()
				continue
			}
			sources[key(o.Namespace, o.Name)] = &source{obj: &o, res: res}
		case kustomizev1.KustomizationKind:
			var o kustomizev1.Kustomization
			if err := yaml.UnmarshalStrict(doc, &o); err != nil {
				res.Error = "decoding: " + err.Error()
				continue
			}
			res.Suspended = o.Spec.Suspend
			kusts = append(kusts, &kust{obj: &o, res: res})
		default:
			res.Error = "not a Flux object this oracle judges"
		}
	}

	// Sources: fetched as source-controller does, from the tag or digest.
	for _, s := range sortedSources(sources) {
		s.dir = filepath.Join(work, "source-"+s.obj.Namespace+"-"+s.obj.Name)
		s.res.Files, s.res.Error = fetch(client, req.Rewrites, s.obj, s.dir)
		s.res.Ready = s.res.Error == ""
	}

	cluster := map[string]bool{}
	for _, e := range req.Existing {
		cluster[e] = true
	}
	round := 0
	// Kustomizations reconcile concurrently: in each round every one that may run sees the cluster
	// as the round found it, and what they apply lands at the end of the round. A failed one is
	// retried in the next round, as kustomize-controller retries at its retryInterval.
	reconcileAll := func() {
		for progress := true; progress; {
			progress = false
			round++
			snapshot := map[string]bool{}
			for n := range cluster {
				snapshot[n] = true
			}
			var applied []string
			for _, k := range kusts {
				if k.res.Ready || k.obj.Spec.Suspend || strings.HasPrefix(k.res.Error, "decoding") {
					continue
				}
				names, err := reconcile(k, sources, kusts, snapshot, work)
				k.res.Error = err
				if err != "" {
					k.res.Failures++
					continue
				}
				k.res.Ready, k.res.Round, k.res.Applied, progress = true, round, names, true
				applied = append(applied, names...)
			}
			for _, n := range applied {
				cluster[n] = true
			}
			if round > 20 {
				break
			}
		}
	}
	reconcileAll()
	if req.Resume {
		for _, k := range kusts {
			k.obj.Spec.Suspend = false
		}
		reconcileAll()
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"objects": results})
}

func key(ns, name string) string { return ns + "/" + name }

func sortedSources(m map[string]*source) []*source {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*source, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

func ociClient(req request) *oci.Client {
	opts := oci.DefaultOptions()
	if req.CA != "" {
		pem, err := os.ReadFile(req.CA)
		if err != nil {
			fail(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fail(fmt.Errorf("no certificate in %s", req.CA))
		}
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.TLSClientConfig = &tls.Config{RootCAs: pool}
		opts = append(opts, crane.WithTransport(transport))
	}
	if req.User != "" {
		opts = append(opts, crane.WithAuth(&authn.Basic{Username: req.User, Password: req.Password}))
	}
	return oci.NewClient(opts)
}

// fetch pulls the source's artifact into dir with Flux's OCI client: the files it unpacked, or why not.
func fetch(client *oci.Client, rewrites []rewrite, o *sourcev1.OCIRepository, dir string) ([]string, string) {
	if o.Spec.LayerSelector != nil {
		return nil, "layerSelector: not judged by this oracle"
	}
	url := strings.TrimPrefix(o.Spec.URL, sourcev1.OCIRepositoryPrefix)
	for _, r := range rewrites {
		if strings.HasPrefix(url, r.From) {
			url = r.To + strings.TrimPrefix(url, r.From)
		}
	}
	switch {
	case o.Spec.Reference == nil:
		url += ":latest"
	case o.Spec.Reference.Digest != "":
		url += "@" + o.Spec.Reference.Digest
	case o.Spec.Reference.Tag != "":
		url += ":" + o.Spec.Reference.Tag
	default:
		return nil, "a reference this oracle does not judge (semver or semverFilter)"
	}
	// source-controller's default layer operation is extract: layer 0 untarred as tar+gzip.
	if _, err := client.Pull(context.Background(), url, dir, oci.WithPullLayerType(oci.LayerTypeTarball)); err != nil {
		return nil, "fetch: " + err.Error()
	}
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	return files, ""
}

// reconcile is one kustomize-controller reconciliation of k against `cluster`: the objects it
// applies, or why it failed.
func reconcile(k *kust, sources map[string]*source, kusts []*kust, cluster map[string]bool, work string) ([]string, string) {
	ns := k.obj.Namespace
	ref := k.obj.Spec.SourceRef
	if ref.Kind != sourcev1.OCIRepositoryKind {
		return nil, "sourceRef kind " + ref.Kind + ": not judged by this oracle"
	}
	srcNS := ref.Namespace
	if srcNS == "" {
		srcNS = ns
	}
	src, ok := sources[key(srcNS, ref.Name)]
	if !ok {
		return nil, fmt.Sprintf("source '%s/%s' not found", srcNS, ref.Name)
	}
	if !src.res.Ready {
		return nil, "source is not ready: " + src.res.Error
	}
	for _, d := range k.obj.Spec.DependsOn {
		dNS := d.Namespace
		if dNS == "" {
			dNS = ns
		}
		var dep *kust
		for _, x := range kusts {
			if x.obj.Namespace == dNS && x.obj.Name == d.Name {
				dep = x
			}
		}
		if dep == nil {
			return nil, fmt.Sprintf("dependency '%s/%s' not found", dNS, d.Name)
		}
		if !dep.res.Ready {
			return nil, fmt.Sprintf("dependency '%s/%s' is not ready", dNS, d.Name)
		}
	}
	// Each build works on a copy of the artifact, as kustomize-controller does per reconciliation.
	tmp, err := os.MkdirTemp(work, "build-")
	if err != nil {
		return nil, err.Error()
	}
	if err := os.CopyFS(tmp, os.DirFS(src.dir)); err != nil {
		return nil, err.Error()
	}
	dirPath := insideRoot(tmp, k.obj.Spec.Path)
	if _, err := os.Stat(dirPath); err != nil {
		return nil, fmt.Sprintf("kustomization path not found: %s", k.obj.Spec.Path)
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(k.obj)
	if err != nil {
		return nil, err.Error()
	}
	if _, err := kustomize.NewGeneratorWithIgnore(tmp, "", unstructured.Unstructured{Object: u}).WriteFile(dirPath); err != nil {
		return nil, "kustomize generate: " + err.Error()
	}
	built, err := kustomize.SecureBuild(tmp, dirPath, false)
	if err != nil {
		return nil, "kustomize build: " + err.Error()
	}
	// Dry-run every object before any is applied.
	var names []string
	for _, r := range built.Resources() {
		obj := fmt.Sprintf("%s/%s/%s", r.GetKind(), r.GetNamespace(), r.GetName())
		m, err := r.Map()
		if err != nil {
			return nil, err.Error()
		}
		if why := admit(r.GetKind(), r.GetNamespace(), m, cluster); why != "" {
			return nil, fmt.Sprintf("%s dry-run failed: %s", obj, why)
		}
		names = append(names, obj)
	}
	return names, ""
}

// admit is the admission rule of Harvester's webhook for an Upgrade (re-derived, see the top).
func admit(kind, ns string, m map[string]any, cluster map[string]bool) string {
	if kind != "Upgrade" {
		return ""
	}
	spec, _ := m["spec"].(map[string]any)
	version, _ := spec["version"].(string)
	image, _ := spec["image"].(string)
	if version == "" && image == "" {
		return "version or image field are not specified."
	}
	if version != "" && image == "" && !cluster["Version/"+ns+"/"+version] {
		return fmt.Sprintf("admission webhook \"validator.harvesterhci.io\" denied the request: version %s is not found", version)
	}
	return ""
}

// insideRoot joins a Kustomization's path to the artifact's root, never leaving it.
func insideRoot(root, p string) string {
	return filepath.Join(root, filepath.Clean(filepath.Join("/", p)))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "flux-docs:", err)
	os.Exit(1)
}
