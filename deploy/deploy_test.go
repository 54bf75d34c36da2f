// Package deploy_test checks the deployment files: the Kubernetes manifests,
// docker-compose.yml, the Dockerfile and the Kibana saved objects.
package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/minewatch/minewatch/config"
)

type object = map[string]any

func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(object)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func list(v any, path ...string) []any {
	l, _ := get(v, path...).([]any)
	return l
}

// decodeAll reads every YAML document of a file.
func decodeAll(t *testing.T, path string) []object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []object
	for {
		var d object
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
	return docs
}

// manifests returns every Kubernetes object in k8s/, with its file.
func manifests(t *testing.T) (objs []object, files map[string]string) {
	t.Helper()
	paths, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in k8s/: %v", err)
	}
	files = map[string]string{}
	for _, p := range paths {
		if filepath.Base(p) == "kustomization.yaml" {
			continue
		}
		for _, d := range decodeAll(t, p) {
			objs = append(objs, d)
			files[str(d, "kind")+"/"+str(d, "metadata", "name")] = p
		}
	}
	return objs, files
}

func TestManifestsWellFormed(t *testing.T) {
	objs, files := manifests(t)
	for _, o := range objs {
		id := str(o, "kind") + "/" + str(o, "metadata", "name")
		if str(o, "apiVersion") == "" || str(o, "kind") == "" || str(o, "metadata", "name") == "" {
			t.Errorf("%s: %s lacks apiVersion, kind or metadata.name", files[id], id)
		}
		if str(o, "kind") != "Namespace" && str(o, "metadata", "namespace") != "minewatch" {
			t.Errorf("%s: %s is not in namespace minewatch", files[id], id)
		}
	}
	// kustomization.yaml lists exactly the manifest files.
	k := decodeAll(t, "k8s/kustomization.yaml")[0]
	var listed []string
	for _, r := range list(k, "resources") {
		listed = append(listed, r.(string))
		if _, err := os.Stat(filepath.Join("k8s", r.(string))); err != nil {
			t.Errorf("kustomization lists missing %s", r)
		}
	}
	paths, _ := filepath.Glob("k8s/*.yaml")
	for _, p := range paths {
		if b := filepath.Base(p); b != "kustomization.yaml" && !slices.Contains(listed, b) {
			t.Errorf("kustomization does not list %s", b)
		}
	}
}

func TestWorkloads(t *testing.T) {
	objs, files := manifests(t)
	byKind := map[string]map[string]object{}
	for _, o := range objs {
		if byKind[str(o, "kind")] == nil {
			byKind[str(o, "kind")] = map[string]object{}
		}
		byKind[str(o, "kind")][str(o, "metadata", "name")] = o
	}
	workloads := 0
	for _, kind := range []string{"Deployment", "StatefulSet", "Job", "DaemonSet"} {
		for name, o := range byKind[kind] {
			workloads++
			id := kind + "/" + name
			t.Run(id, func(t *testing.T) {
				pod := get(o, "spec", "template", "spec")
				if get(pod, "securityContext", "runAsNonRoot") != true {
					t.Errorf("%s: pod securityContext.runAsNonRoot is not true", files[id])
				}
				if uid, ok := get(pod, "securityContext", "runAsUser").(int); !ok || uid == 0 {
					t.Errorf("%s: pod runAsUser %v, want a non-zero uid", files[id], get(pod, "securityContext", "runAsUser"))
				}
				longRunning := kind != "Job"
				if longRunning {
					labels, _ := get(o, "spec", "template", "metadata", "labels").(object)
					sel, _ := get(o, "spec", "selector", "matchLabels").(object)
					for k, v := range sel {
						if labels[k] != v {
							t.Errorf("selector %s=%v does not match the pod labels %v", k, v, labels)
						}
					}
				}
				volumes := map[string]object{}
				for _, v := range list(pod, "volumes") {
					volumes[str(v, "name")] = v.(object)
				}
				for _, c := range list(pod, "containers") {
					cname := str(c, "name")
					for _, res := range []string{"requests.cpu", "requests.memory", "limits.memory"} {
						a, b, _ := strings.Cut(res, ".")
						if get(c, "resources", a, b) == nil {
							t.Errorf("container %s: no resources.%s", cname, res)
						}
					}
					sc := get(c, "securityContext")
					if get(sc, "allowPrivilegeEscalation") != false || get(sc, "readOnlyRootFilesystem") != true {
						t.Errorf("container %s: securityContext %v, want no privilege escalation and a read-only root", cname, sc)
					}
					if !slices.Contains(list(sc, "capabilities", "drop"), any("ALL")) {
						t.Errorf("container %s: capabilities not dropped", cname)
					}
					if longRunning {
						if p := str(c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
							t.Errorf("container %s: liveness probe path %q, want /healthz", cname, p)
						}
						if p := str(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
							t.Errorf("container %s: readiness probe path %q, want /readyz", cname, p)
						}
						ports := map[string]bool{}
						for _, p := range list(c, "ports") {
							ports[str(p, "name")] = true
						}
						for _, probe := range []string{"livenessProbe", "readinessProbe"} {
							if port := get(c, probe, "httpGet", "port"); port != nil {
								if name, ok := port.(string); ok && !ports[name] {
									t.Errorf("container %s: %s port %q is not a named port", cname, probe, name)
								}
							}
						}
					}
					for _, e := range list(c, "env") {
						ref := get(e, "valueFrom", "secretKeyRef")
						if ref == nil {
							continue
						}
						sec, ok := byKind["Secret"][str(ref, "name")]
						if !ok {
							t.Errorf("env %s: no Secret %s in the manifests", str(e, "name"), str(ref, "name"))
							continue
						}
						if get(sec, "stringData", str(ref, "key")) == nil && get(sec, "data", str(ref, "key")) == nil {
							t.Errorf("env %s: Secret %s has no key %s", str(e, "name"), str(ref, "name"), str(ref, "key"))
						}
					}
					for _, m := range list(c, "volumeMounts") {
						if _, ok := volumes[str(m, "name")]; !ok {
							t.Errorf("container %s mounts undeclared volume %s", cname, str(m, "name"))
						}
					}
				}
				for name, v := range volumes {
					if cm := str(v, "configMap", "name"); cm != "" {
						if _, ok := byKind["ConfigMap"][cm]; !ok {
							t.Errorf("volume %s: no ConfigMap %s", name, cm)
						}
					}
				}
			})
		}
	}
	if workloads == 0 {
		t.Fatal("no workloads")
	}
	// The Service reaches the workers.
	for name, svc := range byKind["Service"] {
		sel, _ := get(svc, "spec", "selector").(object)
		found := false
		for _, ss := range byKind["StatefulSet"] {
			labels, _ := get(ss, "spec", "template", "metadata", "labels").(object)
			match := len(sel) > 0
			for k, v := range sel {
				match = match && labels[k] == v
			}
			found = found || match
		}
		if !found {
			t.Errorf("Service %s selects no workload", name)
		}
	}
}

// TestConfigsValid: the minewatch.yaml in the ConfigMap and in the compose
// file pass `minewatch config check`.
func TestConfigsValid(t *testing.T) {
	objs, _ := manifests(t)
	n := 0
	for _, o := range objs {
		if str(o, "kind") == "ConfigMap" {
			if data := str(o, "data", "minewatch.yaml"); data != "" {
				n++
				checkConfig(t, "k8s ConfigMap "+str(o, "metadata", "name"), data)
			}
		}
	}
	compose := decodeAll(t, "docker-compose.yml")[0]
	if data := str(compose, "configs", "minewatch_config", "content"); data != "" {
		n++
		checkConfig(t, "docker-compose minewatch_config", data)
	}
	if n != 2 {
		t.Errorf("found %d minewatch configs, want 2", n)
	}
}

func checkConfig(t *testing.T, where, data string) {
	t.Helper()
	c, err := config.Check(where, []byte(data))
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if c.Index.Backend != config.BackendElasticsearch {
		t.Errorf("%s: backend %q, want elasticsearch", where, c.Index.Backend)
	}
}

func TestCompose(t *testing.T) {
	c := decodeAll(t, "docker-compose.yml")[0]
	services, _ := get(c, "services").(object)
	for _, want := range []string{"elasticsearch", "kibana", "mailpit", "minewatch-init", "minewatch-1", "minewatch-2", "minewatch-3"} {
		if services[want] == nil {
			t.Errorf("no service %s", want)
		}
	}
	if v := str(services, "elasticsearch", "environment", "xpack.security.enabled"); v != "true" {
		t.Errorf("elasticsearch security = %q, want on", v)
	}
	if img := str(services, "elasticsearch", "image"); !strings.HasSuffix(img, ":8.19.7") {
		t.Errorf("elasticsearch image %q not pinned to 8.19.7", img)
	}
	workers := 0
	for name, s := range services {
		if !strings.HasPrefix(name, "minewatch-") || name == "minewatch-init" {
			continue
		}
		workers++
		args := list(s, "command")
		i := slices.Index(args, any("--worker"))
		if i < 0 || i+1 >= len(args) || !strings.HasSuffix(args[i+1].(string), "/3") {
			t.Errorf("%s: command %v lacks --worker i/3", name, args)
		}
	}
	if workers != 3 {
		t.Errorf("%d workers, want 3", workers)
	}
	// With the compose plugin installed, let compose itself validate.
	if out, err := exec.Command("docker", "compose", "version").CombinedOutput(); err != nil {
		t.Logf("docker compose not available (%v: %s); checked the YAML only", err, bytes.TrimSpace(out))
		return
	}
	if out, err := exec.Command("docker", "compose", "-f", "docker-compose.yml", "config", "-q").CombinedOutput(); err != nil {
		t.Errorf("docker compose config: %v\n%s", err, out)
	}
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	var user string
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.EqualFold(f[0], "FROM") {
			froms = append(froms, f[1])
		}
		if len(f) >= 2 && strings.EqualFold(f[0], "USER") {
			user = f[1]
		}
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[0], "golang:1.26") {
		t.Errorf("stages %v: want a golang:1.26 builder and a final stage", froms)
	}
	final := froms[len(froms)-1]
	if !strings.Contains(final, "distroless/static") && final != "scratch" {
		t.Errorf("final image %s: want distroless/static or scratch", final)
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("USER %q: want non-root", user)
	}
	if !strings.Contains(string(data), "CGO_ENABLED=0") {
		t.Error("binary not built with CGO_ENABLED=0")
	}
}

func TestKibanaSavedObjects(t *testing.T) {
	f, err := os.Open("kibana/minewatch.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := map[string]string{}
	var objs []object
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var o object
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("line %d: %v", len(objs)+1, err)
		}
		if str(o, "id") == "" || str(o, "type") == "" || get(o, "attributes") == nil {
			t.Errorf("line %d: id, type or attributes missing", len(objs)+1)
		}
		ids[str(o, "id")] = str(o, "type")
		objs = append(objs, o)
	}
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[str(o, "type")]++
		for _, r := range list(o, "references") {
			if ids[str(r, "id")] != str(r, "type") {
				t.Errorf("%s: reference to %s %s not in the file", str(o, "id"), str(r, "type"), str(r, "id"))
			}
		}
		// Embedded JSON strings must parse.
		for _, k := range []string{"visState", "panelsJSON"} {
			if s := str(o, "attributes", k); s != "" && !json.Valid([]byte(s)) {
				t.Errorf("%s: %s is not JSON", str(o, "id"), k)
			}
		}
		if str(o, "type") == "index-pattern" {
			if str(o, "attributes", "title") != "minewatch-articles-read" || str(o, "attributes", "timeFieldName") != "date" {
				t.Errorf("data view %v: want minewatch-articles-read by date", get(o, "attributes"))
			}
		}
	}
	if kinds["index-pattern"] != 1 || kinds["dashboard"] != 1 || kinds["visualization"] < 3 {
		t.Errorf("saved objects %v: want a data view, a dashboard and its visualizations", kinds)
	}
	// The dashboard shows articles by topic, by country and by day.
	var fields []string
	for _, o := range objs {
		if str(o, "type") != "visualization" {
			continue
		}
		var vs object
		_ = json.Unmarshal([]byte(str(o, "attributes", "visState")), &vs)
		for _, a := range list(vs, "aggs") {
			if f := str(a, "params", "field"); f != "" {
				fields = append(fields, f)
			}
		}
	}
	for _, want := range []string{"topics.topic", "countries", "date"} {
		if !slices.Contains(fields, want) {
			t.Errorf("no visualization aggregates on %s (fields %v)", want, fields)
		}
	}
}
