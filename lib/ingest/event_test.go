package ingest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const eventsDir = "../../events"

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEveryExampleEventParses(t *testing.T) {
	put := func(bucket, key, etag, seq, at string) ObjectEvent {
		return ObjectEvent{Bucket: bucket, Key: key, ETag: etag, EventName: "ObjectCreated:Put", Source: "aws:s3",
			Size: 23040, Time: utc(at), Sequencer: seq}
	}
	want := map[string]struct {
		events []ObjectEvent
		err    string
	}{
		"s3-put.json": {events: []ObjectEvent{put("skybutler-demo", "uploads/2026-03-01/raw_SPHEREx_2026030100001_1.fits",
			"e84b947d50df8ce991dc20a84b18c367", "0065E2A8F1B2C3D4E5", "2026-03-01T00:03:12.417Z")}},
		"s3-object-removed.json": {events: []ObjectEvent{{Bucket: "skybutler-demo", Key: "uploads/2026-03-01/raw_SPHEREx_2026030100001_1.fits",
			EventName: "ObjectRemoved:Delete", Source: "aws:s3", Time: utc("2026-03-02T09:15:00.102Z"), Sequencer: "0065E2B0A1B2C3D4E5"}}},
		"s3-test-event.json":                {},
		"versitygw-webhook-test-event.json": {},
		"sqs-s3-put-batch.json":             {err: "record 1: SQS message 2e1424d4-f796-459a-8184-9c92662be6da: decode JSON: unexpected end of JSON input"},
		"sns-sqs-s3-put.json": {events: []ObjectEvent{put("skybutler-demo", "uploads/2026-03-01/raw_SPHEREx_2026030100002_5.fits",
			"7c4a8d09ca3762af61e59520943dc264", "0065E2A9F1B2C3D4E8", "2026-03-01T00:05:12.771Z")}},
		"eventbridge-object-created.json": {events: []ObjectEvent{{Bucket: "skybutler-demo", Key: "uploads/2026-03-01/raw_SPHEREx_2026030100002_4.fits",
			ETag: "b1946ac92492d2347c6235b4d2611184", EventName: "ObjectCreated:Put", Source: "aws.s3", Size: 23040,
			Time: utc("2026-03-01T00:05:12Z"), Sequencer: "617f08299329d189"}}},
		"versitygw-webhook-put.json": {events: []ObjectEvent{put("raw-uploads", "uploads/2026-03-01/raw_SPHEREx_2026030100001_1.fits",
			"e84b947d50df8ce991dc20a84b18c367", "1", "2026-11-22T03:22:35Z")}},
		"versitygw-webhook-put-special-key.json": {events: []ObjectEvent{put("raw-uploads", "uploads/night 1/a+b.fits",
			"499763628e1fda06ecfd0e47ba9c1a27", "2", "2026-11-22T03:22:35Z")}},
	}
	entries, err := os.ReadDir(eventsDir)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || otherFunctionsEvent(e.Name()) {
			continue
		}
		seen++
		t.Run(e.Name(), func(t *testing.T) {
			w, ok := want[e.Name()]
			if !ok {
				t.Fatalf("no expectation for %s: add one to this test", e.Name())
			}
			evs, err := ParseEvents(readEvent(t, e.Name()))
			if w.err != "" {
				if err == nil || !strings.Contains(err.Error(), w.err) {
					t.Fatalf("error = %v, want one containing %q", err, w.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(w.events) || (len(evs) > 0 && !reflect.DeepEqual(evs, w.events)) {
				t.Fatalf("events\n got %+v\nwant %+v", evs, w.events)
			}
		})
	}
	if seen != len(want) {
		t.Fatalf("%d example files, %d expectations", seen, len(want))
	}
}

func TestParseSQSEventReportsBadMessagesAlone(t *testing.T) {
	msgs, err := ParseSQSEvent(readEvent(t, "sqs-s3-put-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	var resp SQSBatchResponse
	var keys []string
	for _, m := range msgs {
		if m.Err != nil {
			resp.Fail(m.MessageID)
			continue
		}
		for _, ev := range m.Events {
			keys = append(keys, IngestKey(ev))
		}
	}
	wantKeys := []string{
		"ingest:skybutler-demo/uploads/2026-03-01/raw_SPHEREx_2026030100001_2.fits@499763628e1fda06ecfd0e47ba9c1a27",
		"ingest:skybutler-demo/uploads/night of 2026-03-01/raw_SPHEREx_2026030100001_3+retry.fits@0f1e2d3c4b5a69788796a5b4c3d2e1f0",
	}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Fatalf("ingest keys\n got %q\nwant %q", keys, wantKeys)
	}
	if msgs[1].MessageID != "2e1424d4-f796-459a-8184-9c92662be6da" || msgs[1].Err == nil ||
		!strings.Contains(msgs[1].Err.Error(), "parse SQS message 2e1424d4-f796-459a-8184-9c92662be6da: decode JSON") {
		t.Fatalf("message 2: %+v", msgs[1])
	}
	out, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"batchItemFailures":[{"itemIdentifier":"2e1424d4-f796-459a-8184-9c92662be6da"}]}` {
		t.Fatalf("batch response %s", out)
	}
	empty, _ := json.Marshal(SQSBatchResponse{})
	if string(empty) != `{"batchItemFailures":[]}` {
		t.Fatalf("empty batch response %s", empty)
	}

	for _, tc := range []struct {
		name string
		body string
		want string
	}{
		{"a non-JSON body", "not json", "parse SQS event: decode JSON"},
		{"a payload without records", `{"foo": 1}`, "parse SQS event: no Records"},
		{"an S3 notification is not an SQS event", string(readEvent(t, "s3-put.json")), `record 0 is not an SQS message (eventSource "aws:s3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseSQSEvent([]byte(tc.body)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseEventsOfOtherShapes(t *testing.T) {
	s3put := string(readEvent(t, "s3-put.json"))
	quoted, _ := json.Marshal(s3put)
	for _, tc := range []struct {
		name  string
		body  string
		names []string
		err   string
	}{
		{"an SNS envelope alone", `{"Type":"Notification","MessageId":"m","Message":` + string(quoted) + `}`, []string{"ObjectCreated:Put"}, ""},
		{"an SNS event for Lambda", `{"Records":[{"EventSource":"aws:sns","Sns":{"Type":"Notification","Message":` + string(quoted) + `}}]}`, []string{"ObjectCreated:Put"}, ""},
		{"an EventBridge event relayed by SQS", `{"Records":[{"eventSource":"aws:sqs","messageId":"x","body":` + mustQuote(string(readEvent(t, "eventbridge-object-created.json"))) + `}]}`, []string{"ObjectCreated:Put"}, ""},
		{"a test event relayed by SQS", `{"Records":[{"eventSource":"aws:sqs","messageId":"x","body":` + mustQuote(string(readEvent(t, "s3-test-event.json"))) + `}]}`, nil, ""},
		{"an empty record list", `{"Records":[]}`, nil, ""},
		{"a multipart upload", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:CompleteMultipartUpload","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":5}}}]}`, []string{"ObjectCreated:CompleteMultipartUpload"}, ""},
		{"a MinIO notification", `{"EventName":"s3:ObjectCreated:Put","Key":"b/a%2Fb","Records":[{"eventSource":"minio:s3","eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%2Fb","eTag":"e"}},"source":{"host":"h"}}]}`, []string{"ObjectCreated:Put"}, ""},
		{"an EventBridge deletion", `{"source":"aws.s3","detail-type":"Object Deleted","detail":{"bucket":{"name":"b"},"object":{"key":"k"},"deletion-type":"Permanently Deleted"}}`, []string{"ObjectRemoved:Delete"}, ""},
		{"an EventBridge restore", `{"source":"aws.s3","detail-type":"Object Restore Completed","detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}`, []string{"ObjectRestore:Completed"}, ""},
		{"an EventBridge event of another service", `{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{}}`, nil, `source is "aws.ec2", not aws.s3`},
		{"not JSON", `<xml/>`, nil, "not a JSON object"},
		{"an unknown JSON object", `{"hello":"world"}`, nil, "unrecognised payload"},
		{"a record of another service", `{"Records":[{"eventSource":"aws:dynamodb"}]}`, nil, `record 0: unsupported eventSource "aws:dynamodb"`},
		{"a record without a bucket", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"object":{"key":"k"}}}]}`, nil, "missing s3.bucket.name"},
		{"a record without a key", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{}}}]}`, nil, "missing object key"},
		{"a bad percent escape", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%zz"}}}]}`, nil, `decode object key "a%zz"`},
		{"a negative size", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","size":-1}}}]}`, nil, "object size -1 is not a byte count"},
		{"a bad time", `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","eventTime":"yesterday","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`, nil, `event time "yesterday" is not RFC 3339`},
		{"envelopes nested without end", nest(6), nil, "envelopes nested too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := ParseEvents([]byte(tc.body))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "parse storage event: ") {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, ev := range evs {
				names = append(names, ev.EventName)
			}
			if !reflect.DeepEqual(names, tc.names) {
				t.Fatalf("event names %v, want %v", names, tc.names)
			}
		})
	}
}

func TestObjectKeysAreDecodedAsS3EncodesThem(t *testing.T) {
	for _, tc := range []struct {
		name, encoded, want string
	}{
		{"a plus is a space", "raw+data/night+1.fits", "raw data/night 1.fits"},
		{"an encoded plus is a plus", "a%2Bb.fits", "a+b.fits"},
		{"percent escapes are bytes", "caf%C3%A9/%28copy%29.fits", "café/(copy).fits"},
		{"slashes may be encoded", "uploads%2F2026%2Fx.fits", "uploads/2026/x.fits"},
		{"a plain key is unchanged", "uploads/raw_SPHEREx_2026030100001_1.fits", "uploads/raw_SPHEREx_2026030100001_1.fits"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeKey(tc.encoded)
			if err != nil || got != tc.want {
				t.Fatalf("DecodeKey(%q) = %q, %v; want %q", tc.encoded, got, err, tc.want)
			}
			body := `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":` + mustQuote(tc.encoded) + `,"eTag":"\"abc\""}}}]}`
			evs, err := ParseEvents([]byte(body))
			if err != nil || len(evs) != 1 || evs[0].Key != tc.want {
				t.Fatalf("ParseEvents: %+v, %v", evs, err)
			}
			if k := IngestKey(evs[0]); k != "ingest:b/"+tc.want+"@abc" {
				t.Fatalf("IngestKey = %q", k)
			}
		})
	}
}

func TestObjectEventCreated(t *testing.T) {
	for name, want := range map[string]bool{
		"ObjectCreated:Put": true, "ObjectCreated:Copy": true, "ObjectCreated:CompleteMultipartUpload": true,
		"ObjectRemoved:Delete": false, "ObjectRestore:Completed": false, "": false,
	} {
		if got := (ObjectEvent{EventName: name}).Created(); got != want {
			t.Errorf("Created() of %q = %v", name, got)
		}
	}
	if k := IngestKey(ObjectEvent{Bucket: "b", Key: "k", ETag: `"e"`}); k != "ingest:b/k@e" {
		t.Errorf("IngestKey strips quotes: %q", k)
	}
}

func mustQuote(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// nest wraps an empty S3 notification in n SNS envelopes.
func nest(n int) string {
	s := `{"Records":[]}`
	for i := 0; i < n; i++ {
		s = `{"Type":"Notification","Message":` + mustQuote(s) + `}`
	}
	return s
}

// otherFunctionsEvent: payloads of the plan, execute and merge functions,
// which their own packages' tests run.
func otherFunctionsEvent(name string) bool {
	for _, p := range []string{"plan-", "execute-", "merge", "statemachine-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
