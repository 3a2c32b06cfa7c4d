package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsStandAlone: the README and the pages under docs/ link only to
// files of the repository, and every such link resolves. The README once
// linked ../shared/spec, which is not in the repository.
func TestDocsStandAlone(t *testing.T) {
	root := filepath.Join("..", "..")
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages = append(pages, filepath.Join(root, "README.md"))
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			resolved := filepath.Join(filepath.Dir(p), target)
			rel, err := filepath.Rel(root, resolved)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links %s, outside the repository", p, target)
				continue
			}
			if _, err := os.Stat(resolved); err != nil {
				t.Errorf("%s links %s, which does not exist", p, target)
			}
		}
		if strings.Contains(string(b), "shared/spec") {
			t.Errorf("%s mentions shared/spec, which is not in the repository", p)
		}
	}
	// The README starts with the two commands: a selection on a copy of
	// the bundled data, then the tests.
	readme, _ := os.ReadFile(filepath.Join(root, "README.md"))
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(readme), 2)
	if len(blocks) < 2 || !strings.Contains(blocks[0][1], "cp -r testdata/mnist /tmp/") || !strings.Contains(blocks[0][1], "go run ./cmd/winnow select") ||
		strings.TrimSpace(blocks[1][1]) != "go test -race ./..." {
		t.Errorf("the README's first two commands are not a selection on a copy of testdata and the tests: %q", blocks)
	}
}
