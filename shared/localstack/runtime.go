package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Invoker calls a function with a JSON payload and returns its JSON result. A function error (the
// handler returned an error or panicked) is a *FunctionError.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// FunctionError is the error a function reported to the runtime.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	result   chan invokeResult
	done     chan struct{}
	once     sync.Once
}

type invokeResult struct {
	payload []byte
	err     error
}

func (inv *invocation) finish(r invokeResult) {
	inv.once.Do(func() {
		inv.result <- r
		close(inv.done)
	})
}

// Runtime is one function's Lambda Runtime API (the protocol lambda.Start speaks in AWS). Each
// instance process gets its own listener so that an instance that dies fails exactly the
// invocation it held; all instances pull from one queue, which gives the function concurrency.
type Runtime struct {
	Name    string
	Timeout time.Duration
	// Reserved, when above zero, is the function's reserved concurrency: at most this many
	// invocations run or wait for an instance at once, and one more is throttled at once.
	Reserved int
	inflight atomic.Int64
	queue    chan *invocation
}

// ErrThrottled is Lambda's answer to an invocation beyond the function's reserved concurrency
// (TooManyRequestsException, ReservedFunctionConcurrentInvocationLimitExceeded): the function
// never runs.
var ErrThrottled = errors.New("TooManyRequestsException: Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded)")

// NewRuntime makes a function's runtime with its timeout.
func NewRuntime(name string, timeout time.Duration) *Runtime {
	return &Runtime{Name: name, Timeout: timeout, queue: make(chan *invocation)}
}

// Invoke implements Invoker: it waits for a free instance, then for the answer or the timeout.
func (r *Runtime) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if r.Reserved > 0 {
		defer r.inflight.Add(-1)
		if r.inflight.Add(1) > int64(r.Reserved) {
			return nil, ErrThrottled
		}
	}
	inv := &invocation{id: uuid.NewString(), payload: payload, result: make(chan invokeResult, 1), done: make(chan struct{})}
	select {
	case r.queue <- inv:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case res := <-inv.result:
		return res.payload, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Instance is the Runtime API endpoint of one process.
type Instance struct {
	rt       *Runtime
	listener net.Listener
	srv      *http.Server
	mu       sync.Mutex
	inflight map[string]*invocation
	// Died is signalled when the instance's invocation timed out and the process must be replaced.
	Died chan struct{}
}

// NewInstance listens on a loopback port for one process.
func (r *Runtime) NewInstance() (*Instance, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	in := &Instance{rt: r, listener: l, inflight: map[string]*invocation{}, Died: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", in.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", in.respond)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", in.fail)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", in.initError)
	in.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go in.srv.Serve(l)
	return in, nil
}

// Addr is the AWS_LAMBDA_RUNTIME_API value for the process.
func (in *Instance) Addr() string { return in.listener.Addr().String() }

func (in *Instance) next(w http.ResponseWriter, req *http.Request) {
	var inv *invocation
	select {
	case inv = <-in.rt.queue:
	case <-req.Context().Done():
		return
	}
	inv.deadline = time.Now().Add(in.rt.Timeout)
	in.mu.Lock()
	in.inflight[inv.id] = inv
	in.mu.Unlock()
	go in.watch(inv)
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:000000000000:function:"+in.rt.Name)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-"+strings.ReplaceAll(inv.id, "-", "")[:24])
	h.Set("Content-Type", "application/json")
	if _, err := w.Write(inv.payload); err != nil {
		in.take(inv.id)
		inv.finish(invokeResult{err: fmt.Errorf("%s: deliver invocation: %w", in.rt.Name, err)})
	}
}

// watch fails an invocation that outlives its timeout, as Lambda does, and has the process replaced.
func (in *Instance) watch(inv *invocation) {
	t := time.NewTimer(time.Until(inv.deadline))
	defer t.Stop()
	select {
	case <-t.C:
		if in.take(inv.id) != nil {
			inv.finish(invokeResult{err: &FunctionError{Type: "Sandbox.Timedout", Message: fmt.Sprintf("task timed out after %s", in.rt.Timeout)}})
			select {
			case in.Died <- struct{}{}:
			default:
			}
		}
	case <-inv.done:
	}
}

func (in *Instance) take(id string) *invocation {
	in.mu.Lock()
	defer in.mu.Unlock()
	inv := in.inflight[id]
	delete(in.inflight, id)
	return inv
}

func (in *Instance) respond(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	inv := in.take(req.PathValue("id"))
	if inv == nil {
		http.Error(w, "unknown request id", http.StatusBadRequest)
		return
	}
	if err != nil {
		inv.finish(invokeResult{err: err})
	} else {
		inv.finish(invokeResult{payload: body})
	}
	w.WriteHeader(http.StatusAccepted)
}

func (in *Instance) fail(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	inv := in.take(req.PathValue("id"))
	if inv == nil {
		http.Error(w, "unknown request id", http.StatusBadRequest)
		return
	}
	fe := &FunctionError{}
	if json.Unmarshal(body, fe) != nil || fe.Message == "" {
		fe = &FunctionError{Type: "Unknown", Message: string(body)}
	}
	inv.finish(invokeResult{err: fe})
	w.WriteHeader(http.StatusAccepted)
}

func (in *Instance) initError(w http.ResponseWriter, req *http.Request) {
	w.WriteHeader(http.StatusAccepted)
}

// Abandon fails whatever the instance holds (its process died) and closes its listener.
func (in *Instance) Abandon(reason string) {
	in.mu.Lock()
	held := in.inflight
	in.inflight = map[string]*invocation{}
	in.mu.Unlock()
	for _, inv := range held {
		inv.finish(invokeResult{err: &FunctionError{Type: "Runtime.ExitError", Message: reason}})
	}
	_ = in.srv.Close()
}
