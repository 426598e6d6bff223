package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/dimensions"
)

// The Lambda functions, the event each gets for its first call (a cheap
// one on an empty repository: answered, or an error answer when ok is
// false), and the size every bootstrap must stay under.
var lambdaFunctions = []struct {
	name, event string
	ok          bool
}{
	{"ingest", "s3-test-event.json", true},  // no upload in it
	{"plan", "", false},                     // {}: no pipeline
	{"execute", "execute-item.json", false}, // no such batch
	{"merge", "merge.json", false},          // no such graph
	{"compact", "", true},                   // compacts, checkpoints and publishes the empty repository
}

const maxBootstrap = 20_000_000 // 20 MB (decimal: the stricter reading of the budget)

var (
	buildMu sync.Mutex
	builds  = map[string]string{} // GOARCH/name -> executable
)

// buildFunction builds ./functions/NAME for linux/goarch as make functions
// does, once per run.
func buildFunction(b *testing.B, name, goarch string) string {
	b.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := goarch + "/" + name
	if p, ok := builds[key]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "skybutler-fn-")
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc,skybutler_lambda", "-ldflags=-s", "-gcflags=all=-l", "-gcflags=github.com/skybutler/skybutler/...=", "-o", out, "./functions/"+name)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build %s for linux/%s: %v\n%s", name, goarch, err, msg)
	}
	builds[key] = out
	return out
}

// BenchmarkFunctionSize builds each Lambda function for linux/arm64 as
// make functions does (as deployed) and reports its size in MiB; it fails
// when one is 20 MB (20,000,000 bytes) or more.
func BenchmarkFunctionSize(b *testing.B) {
	for _, fn := range lambdaFunctions {
		b.Run(fn.name, func(b *testing.B) {
			st, err := os.Stat(buildFunction(b, fn.name, "arm64"))
			if err != nil {
				b.Fatal(err)
			}
			for range b.N { // nothing to time: the size is the result
			}
			mib := float64(st.Size()) / (1 << 20)
			b.ReportMetric(mib, "MiB")
			fmt.Printf("functions/%-8s bootstrap %5.1f MiB (linux/arm64, stripped)\n", fn.name, mib)
			if st.Size() >= maxBootstrap {
				b.Errorf("functions/%s: the linux/arm64 bootstrap is %.1f MiB, over the 20 MB budget", fn.name, mib)
			}
		})
	}
}

// BenchmarkFunctionInit runs each Lambda function, built for this machine,
// against an emulated Lambda Runtime API on 127.0.0.1 and reports, per
// cold start, the milliseconds from process start to the first GET
// /2018-06-01/runtime/invocation/next (init-ms: the function's init, butler
// open included) and to its first answer (first-call-ms). The repository is
// a local one, so no network time is in these numbers.
func BenchmarkFunctionInit(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the functions are built for linux")
	}
	// An empty repository that knows the SPHEREx instrument (ingest needs
	// one to start).
	ctx := context.Background()
	repo := b.TempDir()
	bt, err := butler.Create(ctx, repo, butler.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	def, err := dimensions.LoadInstrument("spherex")
	if err == nil {
		_, _, _, err = bt.RegisterInstrument(ctx, def)
	}
	if err != nil {
		b.Fatal(err)
	}
	for _, fn := range lambdaFunctions {
		b.Run(fn.name, func(b *testing.B) {
			host := buildFunction(b, fn.name, runtime.GOARCH)
			event := []byte("{}")
			if fn.event != "" {
				var err error
				if event, err = os.ReadFile(filepath.Join("..", "events", fn.event)); err != nil {
					b.Fatal(err)
				}
			}
			var initSum, firstSum time.Duration
			b.ResetTimer()
			for range b.N {
				i, f := coldStart(b, host, fn.name, repo, event, fn.ok)
				initSum += i
				firstSum += f
			}
			initMS := float64(initSum.Microseconds()) / 1e3 / float64(b.N)
			firstMS := float64(firstSum.Microseconds()) / 1e3 / float64(b.N)
			b.ReportMetric(initMS, "init-ms")
			b.ReportMetric(firstMS, "first-call-ms")
		})
	}
}

// coldStart runs one function process under a fresh emulated Runtime API
// that hands it event once, and returns the times from process start to
// its first poll for work and to its first answer (a response when wantOK,
// else an error).
func coldStart(b *testing.B, exe, name, repo string, event []byte, wantOK bool) (initDone, answered time.Duration) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	type mark struct {
		at   time.Time
		what string
		body string
	}
	marks := make(chan mark, 4)
	var once sync.Once
	stop := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		first := false
		once.Do(func() { first = true })
		if !first { // one invocation per cold start: hold later polls
			select {
			case <-stop:
			case <-r.Context().Done():
			}
			return
		}
		marks <- mark{at: now, what: "next"}
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", "bench-request-1")
		h.Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-west-2:123456789012:function:skybutler-"+name)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		h.Set("Content-Type", "application/json")
		w.Write(event)
	})
	answer := func(what string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			now := time.Now()
			var body bytes.Buffer
			body.ReadFrom(r.Body)
			w.WriteHeader(http.StatusAccepted)
			marks <- mark{at: now, what: what, body: body.String()}
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", answer("response"))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", answer("error"))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", answer("init-error"))
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer func() {
		close(stop)
		srv.Close()
	}()

	var stderr bytes.Buffer
	cmd := exec.Command(exe)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir(),
		"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=skybutler-" + name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=2048",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_REGION=us-west-2",
		"SKYBUTLER_REPO=" + repo,
		"SKYBUTLER_CACHE_DIR=" + filepath.Join(os.TempDir(), "skybutler-bench-cache"),
	}
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m := <-marks:
			switch m.what {
			case "next":
				initDone = m.at.Sub(start)
			case "init-error":
				b.Fatalf("%s: init error %s\n%s", name, m.body, stderr.String())
			default:
				if initDone == 0 {
					b.Fatalf("%s: answered before polling", name)
				}
				if ok := m.what == "response"; ok != wantOK {
					b.Fatalf("%s: %s %s\n%s", name, m.what, m.body, stderr.String())
				}
				return initDone, m.at.Sub(start)
			}
		case err := <-exited:
			exited <- err
			b.Fatalf("%s exited before answering (%v):\n%s", name, err, strings.TrimSpace(stderr.String()))
		case <-timeout:
			b.Fatalf("%s: no answer in 30 s:\n%s", name, stderr.String())
		}
	}
}
