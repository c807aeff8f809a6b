// Command bench prints the platform's measurements (make bench). Every ratio compares with a
// baseline measured in the same run on the same machine, so the numbers survive a noisy host:
//   - function cost per request (ns, allocations) of E6, E1, the token endpoint and the authorizer
//     beside a bare aws-lambda-go echo handler, and the token endpoint's beside the authorizer's;
//   - the size of each stripped Lambda bootstrap (make build);
//   - the local stack's start time, from `make run` to a healthy /_local/health (warm caches);
//   - the release pipeline: 202 to readable through E7 (p50, p99), releases applied per second
//     beside a plain TransactWriteItems loop, and write capacity per Release beside its minimum;
//   - the gate validation through the gateway beside E6 (p50, p99), and its DynamoDB calls;
//   - a console sign-in's password check (argon2id) beside the token endpoint.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/portcommunity/cpu/shared/localstack"
)

type result struct {
	ns     float64
	bytes  float64
	allocs float64
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) B/op\s+([\d.]+) allocs/op`)

func main() {
	root, err := localstack.FindRoot()
	if err != nil {
		fail(err)
	}
	if err := os.Chdir(root); err != nil {
		fail(err)
	}
	// Sections may be named to run alone: go run ./infra/bench rights
	sections := map[string]bool{}
	for _, a := range os.Args[1:] {
		sections[a] = true
	}
	run := func(name string) bool { return len(sections) == 0 || sections[name] }
	if run("cost") {
		functionCost()
	}
	if run("sizes") {
		bootstrapSizes()
	}
	if run("start") {
		startTime()
	}
	if run("pipeline") {
		pipelineBench(root)
	}
	if run("gate") {
		gateBench(root)
	}
	if run("notifications") {
		b, err := localstack.StartBackends(context.Background(), filepath.Join(root, ".tools"), os.TempDir())
		if err != nil {
			fail(err)
		}
		notificationsBench(b.DynamoDB())
		b.Stop()
	}
	if run("rights") {
		b, err := localstack.StartBackends(context.Background(), filepath.Join(root, ".tools"), os.TempDir())
		if err != nil {
			fail(err)
		}
		defer b.Stop()
		rightsBench(b.DynamoDB())
	}
}

func functionCost() {
	fmt.Println("== Function cost per request (go test -bench, storage excluded), beside a bare echo handler")
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "5", "./infra/bench/handlers/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.Stdout.Write(out)
		fail(err)
	}
	runs := map[string][]result{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := line.FindStringSubmatch(sc.Text()); m != nil {
			ns, _ := strconv.ParseFloat(m[2], 64)
			b, _ := strconv.ParseFloat(m[3], 64)
			a, _ := strconv.ParseFloat(m[4], 64)
			runs[m[1]] = append(runs[m[1]], result{ns, b, a})
		}
	}
	base, ok := median(runs["BenchmarkEchoHandler"])
	if !ok {
		fail(fmt.Errorf("no echo baseline in:\n%s", out))
	}
	fmt.Printf("%-28s %12s %10s %10s %10s\n", "handler", "ns/op", "B/op", "allocs/op", "x echo")
	names := make([]string, 0, len(runs))
	for n := range runs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r, _ := median(runs[n])
		fmt.Printf("%-28s %12.0f %10.0f %10.0f %10.2f\n", n, r.ns, r.bytes, r.allocs, r.ns/base.ns)
	}
	// The token endpoint beside the authorizer, which runs on every protected call: with a keyed
	// hash a token costs about what one authorized call does (bcrypt cost 12, which it replaces, took
	// about 0.25 s a call on Lambda at 1 GiB).
	tok, okT := median(runs["BenchmarkTokenHandler"])
	az, okA := median(runs["BenchmarkAuthorizerHandler"])
	if !okT || !okA {
		fail(fmt.Errorf("no token endpoint or authorizer benchmark in:\n%s", out))
	}
	fmt.Printf("token endpoint per call: %.0f ns, authorizer per call: %.0f ns: %.2f x the authorizer\n", tok.ns, az.ns, tok.ns/az.ns)
	// A console sign-in pays an argon2id verification (memory-hard on purpose): beside the token
	// endpoint's keyed hash, what a person's sign-in costs against a client's token.
	if si, ok := median(runs["BenchmarkSignInPassword"]); ok {
		fmt.Printf("console sign-in password check: %.1f ms, %.0f KiB per call: %.0f x the token endpoint\n", si.ns/1e6, si.bytes/1024, si.ns/tok.ns)
	}
	fmt.Println()
}

// median of repeated runs (by ns/op): one slow run on a shared machine does not move it.
func median(rs []result) (result, bool) {
	if len(rs) == 0 {
		return result{}, false
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].ns < rs[j].ns })
	return rs[len(rs)/2], true
}

func bootstrapSizes() {
	fmt.Println("== Stripped Lambda bootstraps (linux/arm64, -s -w, lambda.norpc)")
	paths, _ := filepath.Glob(filepath.Join(".build", "lambda", "*", "bootstrap"))
	if len(paths) == 0 {
		fail(fmt.Errorf("no bootstraps in .build/lambda: run make build"))
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			fail(err)
		}
		fmt.Printf("%-28s %8.1f MiB\n", filepath.Base(filepath.Dir(p)), float64(st.Size())/(1<<20))
	}
	fmt.Println()
}

func startTime() {
	fmt.Println("== Local stack start: `make run` to healthy /_local/health (warm caches), 3 runs")
	port, err := localstack.FreePort()
	if err != nil {
		fail(err)
	}
	var times []time.Duration
	for i := 0; i < 3; i++ {
		d, err := startOnce(port)
		if err != nil {
			fail(err)
		}
		times = append(times, d)
		fmt.Printf("run %d: %.2f s\n", i+1, d.Seconds())
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Printf("median: %.2f s\n\n", times[1].Seconds())
}

func startOnce(port int) (time.Duration, error) {
	cmd := exec.Command("make", "--no-print-directory", "run")
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}()
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/_local/health"
	for deadline := start.Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start), nil
			}
		}
	}
	return 0, fmt.Errorf("the local stack did not become healthy in 120 s")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
