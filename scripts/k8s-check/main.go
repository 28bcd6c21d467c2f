// k8s-check renders each kustomize overlay (the kustomize library, as `kustomize build` does),
// decodes every rendered object strictly against the Kubernetes API types (unknown fields and
// wrong types fail), and applies the project's deployment policy. It prints every problem and
// exits 1 when there is any.
//
//	k8s-check -partitions trackme.client-commands=6,... [-out DIR] [-cases DIR] overlay-dir...
//
// -cases names a folder of broken overlays, one per subfolder, whose kustomization.yaml starts
// with `# expect: <text>`: each must fail with a problem containing that text, which shows the
// checks can fail.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func main() {
	partitionsFlag := flag.String("partitions", "", "topic=partitions,... of every topic a scaled consumer reads")
	out := flag.String("out", "", "directory to write each overlay's rendered YAML to (optional)")
	cases := flag.String("cases", "", "directory of broken overlays that must each fail as their first line expects")
	flag.Parse()
	partitions, err := parsePartitions(*partitionsFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-check:", err)
		os.Exit(2)
	}
	failed := false
	for _, dir := range flag.Args() {
		problems := checkOverlay(dir, partitions, *out)
		for _, p := range problems {
			fmt.Fprintf(os.Stderr, "  %s: %s\n", dir, p)
		}
		if len(problems) > 0 {
			failed = true
			fmt.Fprintf(os.Stderr, "k8s-check: %s: %d problem(s)\n", dir, len(problems))
		} else {
			fmt.Fprintf(os.Stderr, "k8s-check: %s: rendered, decoded strictly, policy met\n", dir)
		}
	}
	if *cases != "" && !checkCases(*cases, partitions) {
		failed = true
	}
	if failed {
		os.Exit(1)
	}
}

func checkCases(dir string, partitions map[string]int) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8s-check:", err)
		return false
	}
	ok, count := true, 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		count++
		caseDir := filepath.Join(dir, e.Name())
		text, err := os.ReadFile(filepath.Join(caseDir, "kustomization.yaml"))
		first, _, _ := strings.Cut(string(text), "\n")
		expected, found := strings.CutPrefix(first, "# expect: ")
		if err != nil || !found || expected == "" {
			fmt.Fprintf(os.Stderr, "  %s: kustomization.yaml must start with '# expect: <problem text>'\n", caseDir)
			ok = false
			continue
		}
		problems := checkOverlay(caseDir, partitions, "")
		if !containsText(problems, expected) {
			fmt.Fprintf(os.Stderr, "  %s: expected a problem containing %q, got %q\n", caseDir, expected, problems)
			ok = false
		}
	}
	if ok {
		fmt.Fprintf(os.Stderr, "k8s-check: %s: all %d broken overlays refused with the expected problem\n", dir, count)
	}
	return ok && count > 0
}

func containsText(problems []string, text string) bool {
	for _, p := range problems {
		if strings.Contains(p, text) {
			return true
		}
	}
	return false
}

func parsePartitions(list string) (map[string]int, error) {
	partitions := map[string]int{}
	for _, pair := range strings.Split(list, ",") {
		if pair == "" {
			continue
		}
		topic, count, ok := strings.Cut(pair, "=")
		n, err := strconv.Atoi(count)
		if !ok || err != nil || n < 1 {
			return nil, fmt.Errorf("bad -partitions entry %q (want topic=count)", pair)
		}
		partitions[topic] = n
	}
	return partitions, nil
}

func checkOverlay(dir string, partitions map[string]int, out string) []string {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return []string{fmt.Sprintf("kustomize build: %v", err)}
	}
	if out != "" {
		yaml, err := resources.AsYaml()
		if err == nil {
			name := strings.ReplaceAll(filepath.Clean(dir), string(filepath.Separator), "_") + ".yaml"
			err = os.WriteFile(filepath.Join(out, name), yaml, 0o644)
		}
		if err != nil {
			return []string{fmt.Sprintf("writing the rendered YAML: %v", err)}
		}
	}
	var problems []string
	var objects []object
	for _, r := range resources.Resources() {
		data, err := r.MarshalJSON()
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", r.CurId(), err))
			continue
		}
		obj, err := decodeStrict(data)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s/%s: %v", r.GetKind(), r.GetName(), err))
			continue
		}
		objects = append(objects, obj)
	}
	return append(problems, checkPolicy(objects, partitions)...)
}
