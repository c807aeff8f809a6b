package localstack

import (
	"context"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/portcommunity/cpu/shared/catalog"
)

// Pool runs a function's instance processes and restarts one that dies, as Lambda replaces a
// sandbox. Its Runtime is the function's Invoker.
type Pool struct {
	Fn      catalog.Function
	Runtime *Runtime
	bin     string
	env     map[string]string
	logFile string
	n       int
	log     *slog.Logger
	wg      sync.WaitGroup
}

// NewPool prepares n instances of the function binary with its environment. A function with
// reserved concurrency runs at most that many, and its runtime throttles invocations beyond it as
// Lambda does (whatever n is, so the limit is the same as in AWS).
func NewPool(fn catalog.Function, bin string, env map[string]string, logDir string, n int, log *slog.Logger) *Pool {
	rt := NewRuntime(fn.Name, fn.Timeout)
	if fn.ReservedConcurrency > 0 {
		rt.Reserved = fn.ReservedConcurrency
		n = min(n, fn.ReservedConcurrency)
	}
	return &Pool{
		Fn: fn, Runtime: rt, bin: bin, env: env,
		logFile: filepath.Join(logDir, fn.Name+".log"), n: n, log: log,
	}
}

// Start launches the instances; they stop when ctx ends (Wait for them).
func (p *Pool) Start(ctx context.Context) {
	for i := 0; i < p.n; i++ {
		p.wg.Add(1)
		go p.supervise(ctx, i)
	}
}

// Wait returns when every instance has stopped.
func (p *Pool) Wait() { p.wg.Wait() }

func (p *Pool) supervise(ctx context.Context, i int) {
	defer p.wg.Done()
	for ctx.Err() == nil {
		inst, err := p.Runtime.NewInstance()
		if err != nil {
			p.log.Error("runtime listener", "function", p.Fn.Name, "error", err)
			return
		}
		env := map[string]string{
			"AWS_LAMBDA_RUNTIME_API":          inst.Addr(),
			"AWS_LAMBDA_FUNCTION_NAME":        p.Fn.Name,
			"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
			"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(p.Fn.MemoryMB),
			"AWS_LAMBDA_LOG_STREAM_NAME":      "local/" + strconv.Itoa(i),
		}
		for k, v := range p.env {
			env[k] = v
		}
		proc, err := StartProc(p.Fn.Name, p.logFile, envList(env), p.bin)
		if err != nil {
			inst.Abandon(err.Error())
			p.log.Error("start function", "function", p.Fn.Name, "error", err)
			return
		}
		select {
		case <-proc.Done():
			inst.Abandon("the function process exited")
			if ctx.Err() == nil {
				p.log.Warn("function process exited; restarting", "function", p.Fn.Name, "error", errText(proc.err))
				time.Sleep(200 * time.Millisecond)
			}
		case <-inst.Died:
			proc.Stop(time.Second)
			inst.Abandon("the function timed out")
		case <-ctx.Done():
			proc.Stop(2 * time.Second)
			inst.Abandon("the local stack is stopping")
		}
	}
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
