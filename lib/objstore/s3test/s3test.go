// Package s3test runs a real S3 server, versitygw with its posix backend, for
// tests: the objstore conformance suite and any test that needs the CLI or
// the library against S3.
//
// Use Shared in most tests (one server per test binary, a fresh bucket per
// test) and call Main from the package's TestMain so that the server stops:
//
//	func TestMain(m *testing.M) { s3test.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		srv := s3test.Shared(t)
//		store := srv.Store(t, srv.NewBucket(t), "")
//		cmd.Env = append(os.Environ(), srv.Env()...) // for a subprocess
//		...
//	}
//
// The versitygw binary is $VERSITYGW if that exists, else bin/versitygw in the
// module root (make tools installs it there), else versitygw on $PATH. If it
// is missing the test is skipped, except under CI=true, where it fails.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/skybutler/skybutler/lib/objstore"
)

const (
	accessKey = AccessKey
	secretKey = SecretKey
	region    = "us-east-1"
)

// The credentials every test server accepts.
const (
	AccessKey = "skybutler-test"
	SecretKey = "skybutler-test-secret"
)

// StartAt launches a private server listening on addr (host:port), for tests
// that must know the endpoint before the server runs.
func StartAt(t testing.TB, addr string, extra ...string) *Server {
	t.Helper()
	bin := binaryOrSkip(t)
	s, err := startOnce(bin, addr, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// CreateBucket creates a bucket of a given name.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", name, err)
	}
}

// Server is a running versitygw.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	Root     string // the posix backend's directory; one subdirectory per bucket

	cmd      *exec.Cmd
	waitExit chan error // receives cmd.Wait's result
	dir      string     // temporary directory holding Root and the log
	log      *bytes.Buffer
	client   *s3.Client
	buckets  atomic.Int64
	stop     sync.Once
}

// Start launches a private server for t and stops it when t's cleanup runs.
// Extra arguments are global versitygw options, e.g.
// "--event-webhook-url", "http://127.0.0.1:PORT/".
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := binaryOrSkip(t)
	s, err := start(bin, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the server shared by the test binary, starting it on first
// use. It runs until Main's m.Run returns (or, without Main, until the test
// binary exits; on Linux the server dies with it).
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := binaryOrSkip(t)
	shared.once.Do(func() { shared.srv, shared.err = start(bin) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// Main runs the tests and stops the shared server, then exits. Call it from
// TestMain in packages that use Shared.
func Main(m interface{ Run() int }) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
	}
	os.Exit(code)
}

// binaryOrSkip finds versitygw, or skips t (fails it under CI=true).
func binaryOrSkip(t testing.TB) string {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("s3test: %v (CI=true: S3 tests must not skip)", err)
		}
		t.Skipf("s3test: %v; run make tools", err)
	}
	return bin
}

// Binary returns the path of the versitygw binary: $VERSITYGW, bin/versitygw
// in the module root, or versitygw on $PATH, whichever exists first.
func Binary() (string, error) {
	var tried []string
	if p := os.Getenv("VERSITYGW"); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, "bin", "versitygw")
		if isExecutable(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	tried = append(tried, "versitygw on $PATH")
	return "", fmt.Errorf("versitygw not found (tried %s)", strings.Join(tried, ", "))
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}

// start launches versitygw on a free port, retrying with another port if the
// one picked is taken before versitygw binds it.
func start(bin string, extra ...string) (*Server, error) {
	var err error
	for range 3 {
		var s *Server
		port, perr := freePort()
		if perr != nil {
			return nil, perr
		}
		if s, err = startOnce(bin, fmt.Sprintf("127.0.0.1:%d", port), extra...); err == nil {
			return s, nil
		}
	}
	return nil, err
}

func startOnce(bin, addr string, extra ...string) (*Server, error) {
	dir, err := os.MkdirTemp("", "s3test-")
	if err != nil {
		return nil, err
	}
	s := &Server{Root: filepath.Join(dir, "root"), dir: dir, log: new(bytes.Buffer)}
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.Endpoint = "http://" + addr
	args := append([]string{"--access", accessKey, "--secret", secretKey,
		"--region", region, "--port", addr, "--quiet"}, extra...)
	s.cmd = exec.Command(bin, append(args, "posix", s.Root)...)
	s.cmd.Stdout = &lockedWriter{w: s.log}
	s.cmd.Stderr = s.cmd.Stdout
	s.cmd.Env = os.Environ()
	setParentDeathSignal(s.cmd)
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("s3test: start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()

	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			break // any HTTP answer (403 without credentials) means it is up
		}
		select {
		case err := <-exited:
			os.RemoveAll(dir)
			return nil, fmt.Errorf("s3test: versitygw exited (%v): %s", err, s.Log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.cmd.Process.Kill()
			<-exited
			os.RemoveAll(dir)
			return nil, fmt.Errorf("s3test: versitygw did not answer on %s: %s", addr, s.Log())
		}
	}
	s.waitExit = exited
	s.client = s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		UsePathStyle: true,
	})
	return s, nil
}

// Stop kills the server and removes its directory. It is safe to call more
// than once.
func (s *Server) Stop() {
	s.stop.Do(func() {
		s.cmd.Process.Kill()
		<-s.waitExit
		os.RemoveAll(s.dir)
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// NewBucket creates a bucket with a fresh name and returns the name.
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	var suffix [4]byte
	rand.Read(suffix[:])
	name := fmt.Sprintf("test-%d-%s", s.buckets.Add(1), hex.EncodeToString(suffix[:]))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("s3test: create bucket %s: %v", name, err)
	}
	return name
}

// Store returns an objstore.Store on s3://bucket/prefix of this server.
func (s *Server) Store(t testing.TB, bucket, prefix string) objstore.Store {
	t.Helper()
	st, err := objstore.NewS3(context.Background(), bucket, prefix,
		objstore.WithS3Endpoint(s.Endpoint),
		objstore.WithS3Credentials(accessKey, secretKey),
		objstore.WithS3Region(region),
		objstore.WithS3PathStyle(true))
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	return st
}

// Env returns the environment variables ("NAME=value") that point the AWS
// SDK, and so objstore.Open("s3://..."), at this server. Append them to
// os.Environ() for a subprocess.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.Endpoint,
		"AWS_ACCESS_KEY_ID=" + accessKey,
		"AWS_SECRET_ACCESS_KEY=" + secretKey,
		"AWS_REGION=" + region,
		"AWS_EC2_METADATA_DISABLED=true",
		"SKYBUTLER_S3_PATH_STYLE=1",
	}
}

// Log returns what the server has written to stdout and stderr so far.
func (s *Server) Log() string {
	w := s.cmd.Stdout.(*lockedWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return s.log.String()
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
