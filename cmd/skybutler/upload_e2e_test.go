package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skybutler/skybutler/examples/synth"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type serveStatus struct {
	Received int            `json:"events_received"`
	Done     int            `json:"events_done"`
	Outcomes map[string]int `json:"outcomes"`
}

func status(t *testing.T, addr string) serveStatus {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s serveStatus
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitDone waits until serve-events has finished at least n events and has
// been idle for a moment.
func waitDone(t *testing.T, addr string, n int) serveStatus {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		s := status(t, addr)
		if s.Done >= n && s.Done == s.Received {
			time.Sleep(500 * time.Millisecond)
			if s2 := status(t, addr); s2.Done == s.Done && s2.Received == s.Received {
				return s2
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("serve-events did not finish %d events: %+v", n, status(t, addr))
	return serveStatus{}
}

func countRaws(t *testing.T, r repo) int {
	t.Helper()
	var refs []map[string]any
	if err := json.Unmarshal([]byte(r.ok(t, "query-datasets", r.uri, "raw", "--format", "json")), &refs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ref := range refs {
		id := ref["id"].(string)
		if seen[id] {
			t.Fatalf("dataset %s listed twice", id)
		}
		seen[id] = true
	}
	return len(refs)
}

// TestUploadsAreIngestedThroughServeEvents: versitygw posts an event for
// every PUT to serve-events, which ingests the uploads into a repository on
// the same S3 server. 200 uploads -> 200 datasets with the right records;
// every event again -> still 200; a corrupt upload among new ones is
// reported and the others ingested.
func TestUploadsAreIngestedThroughServeEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	addr := freeAddr(t)
	// serve-events first: versitygw checks its webhook when it starts. The
	// S3 endpoint is not known yet, so the repository URI and credentials
	// reach serve-events through a port and keys fixed in advance.
	s3addr := freeAddr(t)
	bucket := "uploads-e2e"
	uri := "s3://" + bucket + "/repo"
	env := []string{"AWS_ENDPOINT_URL=http://" + s3addr, "AWS_ACCESS_KEY_ID=" + s3test.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3test.SecretKey,
		"AWS_REGION=us-east-1", "SKYBUTLER_S3_PATH_STYLE=1"}
	cache := t.TempDir()
	serve := exec.Command(binary, "serve-events", uri, "--listen", addr, "--batch-window", "300ms")
	serve.Env = append(append(os.Environ(), "SKYBUTLER_CACHE_DIR="+cache), env...)
	var serveLog strings.Builder
	serve.Stdout, serve.Stderr = &serveLog, &serveLog
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
		if t.Failed() {
			t.Logf("serve-events log:\n%s", serveLog.String())
		}
	})
	for i := 0; ; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatal("serve-events did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv := s3test.StartAt(t, s3addr, "--event-webhook-url", "http://"+addr+"/")
	srv.CreateBucket(t, bucket)
	r := repo{uri: uri, env: env, store: srv.Store(t, bucket, "repo"), cache: cache}
	r.ok(t, "create", r.uri)
	r.ok(t, "register-instrument", r.uri, "spherex")

	dir := t.TempDir()
	files, err := synth.GenerateRaws(dir, synth.Options{Exposures: 34})
	if err != nil {
		t.Fatal(err)
	}
	files = files[:200]
	uploads := srv.Store(t, bucket, "")
	upload := func(fs []synth.FileInfo) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, f := range fs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				data, err := os.ReadFile(f.Path)
				if err == nil {
					_, err = uploads.Put(context.Background(), "uploads/"+filepath.Base(f.Path), data)
				}
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	upload(files)
	st := waitDone(t, addr, 200)
	if n := countRaws(t, r); n != 200 {
		t.Fatalf("%d raw datasets after 200 uploads, want 200 (status %+v)", n, st)
	}
	// The records came from the headers.
	var recs []map[string]any
	f := files[7]
	json.Unmarshal([]byte(r.ok(t, "query-dimension-records", r.uri, "exposure", "--where", fmt.Sprintf("exposure = %d", f.Exposure), "--format", "json")), &recs)
	if len(recs) != 1 || recs[0]["obs_id"] != f.ObsID || recs[0]["observation_type"] != strings.ToLower(f.ObsType) ||
		recs[0]["timespan_begin"] != f.Begin.Format(time.RFC3339Nano) && !strings.HasPrefix(fmt.Sprint(recs[0]["timespan_begin"]), f.Begin.Format("2006-01-02T15:04:05")) {
		t.Fatalf("exposure record %v, want obs_id %s, type %s, begin %s", recs, f.ObsID, f.ObsType, f.Begin)
	}

	// Every event again (the same objects re-uploaded): nothing new.
	upload(files)
	waitDone(t, addr, 400)
	if n := countRaws(t, r); n != 200 {
		t.Fatalf("%d raw datasets after replaying every event, want 200", n)
	}

	// New uploads with one corrupt file among them.
	more, err := synth.GenerateRaws(filepath.Join(dir, "more"), synth.Options{Exposures: 2, Start: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "more", "raw_corrupt.fits")
	if err := synth.WriteCorrupt(corrupt); err != nil {
		t.Fatal(err)
	}
	upload(append(more, synth.FileInfo{Path: corrupt}))
	st = waitDone(t, addr, 400+len(more)+1)
	if n := countRaws(t, r); n != 200+len(more) {
		t.Fatalf("%d raw datasets, want %d", n, 200+len(more))
	}
	if st.Outcomes["failed"] != 1 {
		t.Fatalf("outcomes %v: the corrupt upload was not reported as failed", st.Outcomes)
	}
}

// TestUploadsToALocalBucketAreIngested: the local stand-in for S3 (upload
// into a directory bucket + event notifications) drives the same ingest.
func TestUploadsToALocalBucketAreIngested(t *testing.T) {
	r := fileRepo(t)
	r.ok(t, "create", r.uri)
	r.ok(t, "register-instrument", r.uri, "spherex")
	bucketDir := filepath.Join(t.TempDir(), "uploads")
	addr := freeAddr(t)
	serve := exec.Command(binary, "serve-events", r.uri, "--listen", addr, "--local-bucket", "uploads="+bucketDir)
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Signal(os.Interrupt); serve.Wait() })
	for i := 0; ; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatal("serve-events did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	files, err := synth.GenerateRaws(t.TempDir(), synth.Options{Exposures: 2})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"upload", bucketDir, "--notify", "http://" + addr + "/"}
	for _, f := range files {
		args = append(args, f.Path)
	}
	for range 2 { // the second upload of the same files changes nothing
		r.ok(t, args...)
		waitDone(t, addr, len(files))
		if n := countRaws(t, r); n != 12 {
			t.Fatalf("%d raws, want 12", n)
		}
	}
}
