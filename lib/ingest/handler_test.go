package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skybutler/skybutler/examples/synth"
	"github.com/skybutler/skybutler/lib/butler"
	"github.com/skybutler/skybutler/lib/ingest"
	"github.com/skybutler/skybutler/lib/objstore/s3test"
)

// s3Repo creates a repository on versitygw with the spherex instrument and
// points the AWS environment at the server.
func s3Repo(t *testing.T) (*butler.Butler, *s3test.Server, string) {
	t.Helper()
	srv := s3test.Shared(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("SKYBUTLER_CACHE_DIR", t.TempDir())
	bucket := srv.NewBucket(t)
	b, err := butler.Create(context.Background(), "s3://"+bucket+"/repo", butler.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	def, err := os.ReadFile("../../schemas/instruments/spherex.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := b.RegisterInstrument(context.Background(), def); err != nil {
		t.Fatal(err)
	}
	return b, srv, bucket
}

// exampleEvent loads an events/ file with its bucket replaced by bucket, and
// uploads a synthetic raw (or a corrupt file) at every key it names.
func exampleEvent(t *testing.T, srv *s3test.Server, bucket, name string, corrupt map[string]bool) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../events", name))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(strings.ReplaceAll(string(raw), "skybutler-demo", bucket))
	var keys []string
	if msgs, err := ingest.ParseSQSEvent(body); err == nil {
		for _, m := range msgs {
			for _, ev := range m.Events {
				keys = append(keys, ev.Key)
			}
		}
	} else {
		evs, err := ingest.ParseEvents(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			keys = append(keys, ev.Key)
		}
	}
	files, err := synth.GenerateRaws(t.TempDir(), synth.Options{Exposures: 1})
	if err != nil {
		t.Fatal(err)
	}
	store := srv.Store(t, bucket, "")
	for i, k := range keys {
		data, _ := os.ReadFile(files[i%len(files)].Path)
		if corrupt[k] {
			data = []byte("SIMPLE  = garbage")
		}
		if _, err := store.Put(context.Background(), k, data); err != nil {
			t.Fatal(err)
		}
	}
	return body
}

func TestTheIngestFunctionReportsPartialBatchFailures(t *testing.T) {
	ctx := context.Background()
	b, srv, bucket := s3Repo(t)
	body := exampleEvent(t, srv, bucket, "sqs-s3-put-batch.json", nil)
	h, err := ingest.NewHandler(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	h.Prefix = ""
	for round := range 2 { // the same batch again (at-least-once delivery) changes nothing
		resp, err := h.HandleSQS(ctx, body)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "2e1424d4-f796-459a-8184-9c92662be6da" {
			t.Fatalf("round %d: failures %v, want only the malformed message", round, resp.BatchItemFailures)
		}
		refs, err := b.Registry.Current().Datasets(ctx, "raw")
		if err != nil || len(refs) != 2 {
			t.Fatalf("round %d: %d raws (%v), want 2", round, len(refs), err)
		}
	}
}

func TestTheIngestFunctionFailsAnUnreadableUploadAlone(t *testing.T) {
	ctx := context.Background()
	b, srv, bucket := s3Repo(t)
	msgs, _ := ingest.ParseSQSEvent([]byte(strings.ReplaceAll(mustRead(t, "../../events/sqs-s3-put-batch.json"), "skybutler-demo", bucket)))
	bad := msgs[2].Events[0].Key
	body := exampleEvent(t, srv, bucket, "sqs-s3-put-batch.json", map[string]bool{bad: true})
	h, err := ingest.NewHandler(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	h.Prefix = ""
	resp, err := h.HandleSQS(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		ids[f.ItemIdentifier] = true
	}
	if len(ids) != 2 || !ids[msgs[2].MessageID] || !ids[msgs[1].MessageID] {
		t.Fatalf("failures %v, want the malformed and the corrupt message", resp.BatchItemFailures)
	}
	if refs, _ := b.Registry.Current().Datasets(ctx, "raw"); len(refs) != 1 {
		t.Fatalf("%d raws, want 1", len(refs))
	}
	// Invoked directly with an S3 event: the outcome, and an error when a file fails.
	direct := exampleEvent(t, srv, bucket, "s3-put.json", nil)
	out, err := h.HandleLambda(ctx, direct)
	if err != nil {
		t.Fatalf("direct S3 event: %v (%v)", err, out)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestMain(m *testing.M) { s3test.Main(m) }
