// Package archtest holds repository invariants as tests: import directions
// between IANT's packages and one package doc per package.
package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/oas-cicte/iant/"

// pkgInfo is what the tests need of one package: its non-test imports and
// how many files carry a package doc comment.
type pkgInfo struct {
	imports  []string
	docFiles int
}

func loadPackages(t *testing.T) map[string]pkgInfo {
	t.Helper()
	out := map[string]pkgInfo{}
	root := filepath.Join("..", "..")
	for _, top := range []string{"pkg", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly|parser.ParseComments)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			info := out[filepath.ToSlash(rel)]
			if f.Doc != nil {
				info.docFiles++
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if !slices.Contains(info.imports, p) {
					info.imports = append(info.imports, p)
				}
			}
			out[filepath.ToSlash(rel)] = info
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// allowed lists, for the library packages, which IANT packages each may
// import. Leaves import none; the concerns import only leaves; the node
// scaffold imports leaves; the secretariat's node composes the audit, the
// backbone and seal (verifying the attestations receipts carry against
// the directory, hence seal's entry verification), and never the state
// node's other concerns (the store, the policy): it holds no bulletin
// content. Metrics and health are leaves the nodes and the backbone
// report through. The state node composes everything and is not listed.
var allowed = map[string][]string{
	"pkg/region":                {},
	"pkg/problem":               {},
	"pkg/escape":                {},
	"pkg/dirlock":               {},
	"pkg/bulletin":              {"pkg/region", "pkg/problem", "pkg/escape"},
	"pkg/identity":              {"pkg/region"},
	"pkg/identity/identitytest": {"pkg/identity"},
	"pkg/membership":            {"pkg/identity", "pkg/region", "pkg/problem"},
	"pkg/policy":                {"pkg/bulletin", "pkg/identity", "pkg/region", "pkg/problem"},
	"pkg/seal":                  {"pkg/bulletin", "pkg/identity", "pkg/region"},
	"pkg/seal/keystore":         {"pkg/seal"},
	"pkg/seal/sealtest":         {},
	"pkg/sqlitedb":              {},
	"pkg/strictjson":            {},
	"pkg/stix":                  {"pkg/bulletin", "pkg/region", "pkg/problem", "pkg/strictjson"},
	"pkg/misp":                  {"pkg/bulletin", "pkg/region", "pkg/problem", "pkg/strictjson", "pkg/stix"},
	"pkg/taxii":                 {"pkg/bulletin", "pkg/identity", "pkg/region", "pkg/problem", "pkg/strictjson", "pkg/stix"},
	"pkg/store":                 {"pkg/bulletin", "pkg/region", "pkg/problem", "pkg/sqlitedb"},
	"pkg/audit":                 {"pkg/bulletin", "pkg/identity", "pkg/region", "pkg/problem", "pkg/sqlitedb"},
	"pkg/metrics":               {"pkg/bulletin"},
	"pkg/health":                {},
	"pkg/backbone":              {"pkg/identity", "pkg/region", "pkg/membership", "pkg/health"},
	"pkg/devpki":                {"pkg/identity", "pkg/region"},
	"pkg/nodeserver":            {"pkg/identity", "pkg/region", "pkg/problem", "pkg/membership", "pkg/metrics", "pkg/health"},
	"pkg/console":               {"pkg/audit", "pkg/identity", "pkg/region"},
	"pkg/taxiiproxy":            {"pkg/identity"},
	"pkg/secretariat": {"pkg/audit", "pkg/backbone", "pkg/bulletin", "pkg/identity", "pkg/nodeserver",
		"pkg/problem", "pkg/region", "pkg/seal", "pkg/membership", "pkg/metrics", "pkg/health", "pkg/store"},
}

// edge lists the listed packages that serve gRPC and so convert to and
// from the protobuf types of api/.
var edge = map[string]bool{"pkg/nodeserver": true, "pkg/secretariat": true, "pkg/console": true}

func TestImportDirections(t *testing.T) {
	for dir, info := range loadPackages(t) {
		want, ok := allowed[dir]
		if !ok {
			continue
		}
		for _, imp := range info.imports {
			if strings.HasPrefix(imp, module+"api/") && !edge[dir] {
				t.Errorf("%s imports %s: protobuf types stay at the edge (node, client, cmd)", dir, imp)
				continue
			}
			if !strings.HasPrefix(imp, module) {
				continue
			}
			dep := strings.TrimPrefix(imp, module)
			if !slices.Contains(want, dep) && !(edge[dir] && strings.HasPrefix(dep, "api/")) {
				t.Errorf("%s imports %s; it may import only %v", dir, dep, want)
			}
		}
	}
}

// TestCryptoAndPolicyStayOffTheWire checks that sealing, policy and storage
// do not reach for the network stacks directly.
func TestCryptoAndPolicyStayOffTheWire(t *testing.T) {
	pkgs := loadPackages(t)
	for _, dir := range []string{"pkg/seal", "pkg/seal/keystore", "pkg/policy", "pkg/store", "pkg/bulletin", "pkg/audit", "pkg/sqlitedb", "pkg/membership"} {
		for _, imp := range pkgs[dir].imports {
			if strings.HasPrefix(imp, "google.golang.org/grpc") || strings.HasPrefix(imp, "github.com/nats-io/") {
				t.Errorf("%s imports %s", dir, imp)
			}
		}
	}
}

// testOnly lists the packages that build attacks for tests: no package's
// non-test code may import them.
var testOnly = []string{"pkg/seal/sealtest"}

func TestAttackBuildersStayInTests(t *testing.T) {
	for dir, info := range loadPackages(t) {
		for _, imp := range info.imports {
			if slices.Contains(testOnly, strings.TrimPrefix(imp, module)) {
				t.Errorf("%s imports %s outside its tests", dir, imp)
			}
		}
	}
}

func TestEveryPackageHasOnePackageDoc(t *testing.T) {
	for dir, info := range loadPackages(t) {
		if info.docFiles != 1 {
			t.Errorf("%s has %d files with a package doc comment, want exactly 1", dir, info.docFiles)
		}
	}
}
