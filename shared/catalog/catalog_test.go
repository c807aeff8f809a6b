package catalog

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCatalogIsConsistent: every function has its folder, routes are unique, every queue trigger
// names a queue whose visibility timeout is at least six times the consumer's timeout, and there is
// exactly one authorizer.
func TestCatalogIsConsistent(t *testing.T) {
	c := Platform()
	routes, authorizers := map[string]bool{}, 0
	queues := map[string]Queue{}
	for _, q := range c.Queues {
		queues[q.Name] = q
		if q.MaxReceives < 1 {
			t.Errorf("queue %s has no redrive", q.Name)
		}
	}
	for _, f := range c.Functions {
		if _, err := os.Stat(filepath.Join("..", "..", "functions", f.Name, "main.go")); err != nil {
			t.Errorf("function %s has no functions/%s/main.go", f.Name, f.Name)
		}
		if f.Authorizer {
			authorizers++
		}
		if f.Timeout <= 0 || f.MemoryMB < 128 {
			t.Errorf("function %s: timeout %v memory %d", f.Name, f.Timeout, f.MemoryMB)
		}
		if r := f.Trigger.Route; r != nil {
			k := r.Method + " " + r.Path
			if routes[k] {
				t.Errorf("route %s twice", k)
			}
			routes[k] = true
			if th := r.Throttle; th != nil && (th.RatePerSecond <= 0 || float64(th.Burst) < th.RatePerSecond) {
				t.Errorf("route %s: throttle %+v (a burst below the rate would refuse a steady caller)", k, *th)
			}
		}
		if f.ReservedConcurrency < 0 {
			t.Errorf("function %s: reserved concurrency %d", f.Name, f.ReservedConcurrency)
		}
		for _, g := range f.Grants {
			if g.KeyPrefix != "" && (g.On != Table || (g.Access != Write && g.Access != Read)) {
				t.Errorf("function %s: a key prefix limits only a table read or write: %+v", f.Name, g)
			}
			if g.Access == Mac && (g.On != ClientSecretKey || f.Name != "oauth-token") {
				t.Errorf("function %s may derive the client-secret key: %+v", f.Name, g)
			}
		}
		if qt := f.Trigger.Queue; qt != nil {
			q, ok := queues[qt.Queue]
			if !ok {
				t.Errorf("function %s consumes unknown queue %s", f.Name, qt.Queue)
			} else if q.VisibilityTimeout < 6*f.Timeout {
				t.Errorf("queue %s visibility %v < 6 x %v", q.Name, q.VisibilityTimeout, f.Timeout)
			}
		}
		hasStage := false
		for _, e := range f.Env {
			hasStage = hasStage || e.Ref == EnvStage
		}
		if !hasStage {
			t.Errorf("function %s does not know its stage", f.Name)
		}
	}
	if authorizers != 1 {
		t.Errorf("%d authorizers", authorizers)
	}
	// Every directory under functions/ is in the catalog.
	dirs, _ := os.ReadDir(filepath.Join("..", "..", "functions"))
	for _, d := range dirs {
		if _, ok := Lookup(d.Name()); !ok {
			t.Errorf("functions/%s is not in the catalog", d.Name())
		}
	}
}
