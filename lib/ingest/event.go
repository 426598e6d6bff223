package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ObjectEvent is one object-level storage event, whatever envelope carried
// it.
type ObjectEvent struct {
	Bucket string
	// Key is the object key as stored: URL-decoded ("raw data/a+b.fits" for
	// "raw+data/a%2Bb.fits"), except from versitygw, which sends it as is.
	Key  string
	ETag string // without quotes; "" when the event carries none
	// EventName in S3 notification form without the "s3:" prefix:
	// "ObjectCreated:Put", "ObjectCreated:CompleteMultipartUpload",
	// "ObjectRemoved:Delete", ... EventBridge detail types are mapped to
	// the same names ("Object Created" with reason PutObject ->
	// "ObjectCreated:Put").
	EventName string
	// Source is the event's own source field: "aws:s3" for S3 event
	// notifications (versitygw and MinIO say "aws:s3" and "minio:s3"),
	// "aws.s3" for EventBridge.
	Source    string
	Size      int64
	Time      time.Time // when the event happened (zero if not given)
	Sequencer string    // orders events of one key (hex; greater is later)
}

// Created reports whether the event announces a new object (ObjectCreated:*),
// the only kind that yields ingest work.
func (e ObjectEvent) Created() bool { return strings.HasPrefix(e.EventName, "ObjectCreated:") }

// IngestKey returns the idempotency key of ingesting the object version the
// event announces: "ingest:BUCKET/KEY@ETAG".
func IngestKey(ev ObjectEvent) string {
	return "ingest:" + ev.Bucket + "/" + ev.Key + "@" + strings.Trim(ev.ETag, `"`)
}

// maxEnvelopeDepth bounds nesting (SQS body -> SNS message -> S3 event).
const maxEnvelopeDepth = 4

// ParseEvents parses a storage event payload into object events. Accepted:
//
//   - an S3 event notification {"Records": [{"eventSource": "aws:s3", ...}]},
//     as S3 sends it to Lambda, SQS or SNS, and as versitygw posts it to its
//     --event-webhook-url (event names with the "s3:" prefix, quoted ETags,
//     keys as the client sent them);
//   - an SQS event {"Records": [{"eventSource": "aws:sqs", "body": ...}]}
//     whose bodies are any accepted payload (an S3 notification, an SNS
//     envelope, an EventBridge event);
//   - an SNS envelope {"Type": "Notification", "Message": ...} or an SNS
//     event {"Records": [{"EventSource": "aws:sns", "Sns": {...}}]};
//   - an EventBridge event {"source": "aws.s3", "detail-type": "Object
//     Created", "detail": {...}};
//   - the test event S3 and versitygw send when notifications are set up
//     ({"Event": "s3:TestEvent", ...}): no events, no error.
//
// Object keys are URL-decoded as S3 encodes them ("+" is a space, %XX a
// byte), except in versitygw's notifications (recognised by their
// configurationId "webhook-global", "kafka-global", ...), which carry the
// key unencoded. Events other than ObjectCreated (ObjectRemoved, ...) are returned
// too, so the caller can skip them by EventName (see Created). One bad
// record fails the whole payload; ParseSQSEvent isolates SQS messages.
func ParseEvents(body []byte) ([]ObjectEvent, error) {
	evs, err := parsePayload(body, 0)
	if err != nil {
		return nil, fmt.Errorf("parse storage event: %w", err)
	}
	return evs, nil
}

// envelope has the fields that tell the accepted payloads apart.
type envelope struct {
	Records    []json.RawMessage `json:"Records"`
	Event      string            `json:"Event"`       // s3:TestEvent
	Type       string            `json:"Type"`        // SNS: Notification
	Message    *string           `json:"Message"`     // SNS
	Source     string            `json:"source"`      // EventBridge: aws.s3
	DetailType string            `json:"detail-type"` // EventBridge
	Detail     json.RawMessage   `json:"detail"`
	Time       string            `json:"time"`
}

func parsePayload(body []byte, depth int) ([]ObjectEvent, error) {
	if depth > maxEnvelopeDepth {
		return nil, errors.New("envelopes nested too deeply")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, fmt.Errorf("not a JSON object (it starts %q)", body[:min(len(body), 20)])
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	switch {
	case env.Records != nil:
		var out []ObjectEvent
		for i, rec := range env.Records {
			evs, err := parseRecord(rec, depth)
			if err != nil {
				return nil, fmt.Errorf("record %d: %w", i, err)
			}
			out = append(out, evs...)
		}
		return out, nil
	case env.Event == "s3:TestEvent":
		return nil, nil
	case env.Message != nil && (env.Type == "Notification" || env.Type == ""):
		evs, err := parsePayload([]byte(*env.Message), depth+1)
		if err != nil {
			return nil, fmt.Errorf("SNS message: %w", err)
		}
		return evs, nil
	case env.DetailType != "" && env.Detail != nil:
		ev, err := parseEventBridge(env)
		if err != nil {
			return nil, fmt.Errorf("EventBridge event: %w", err)
		}
		return []ObjectEvent{ev}, nil
	}
	return nil, errors.New("unrecognised payload: want an S3 event notification, an SQS or SNS event carrying one, or an EventBridge S3 event")
}

// record is the union of the fields of S3, SQS and SNS records.
type record struct {
	EventSource  string `json:"eventSource"`
	EventSource2 string `json:"EventSource"` // SNS records capitalise it
	EventName    string `json:"eventName"`
	EventTime    string `json:"eventTime"`
	S3           *struct {
		ConfigurationID string `json:"configurationId"`
		Bucket          struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string          `json:"key"`
			Size      json.RawMessage `json:"size"`
			ETag      *string         `json:"eTag"`
			Sequencer string          `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
	Body      *string `json:"body"`      // SQS
	MessageID string  `json:"messageId"` // SQS
	Sns       *struct {
		Message string `json:"Message"`
	} `json:"Sns"`
}

func parseRecord(raw json.RawMessage, depth int) ([]ObjectEvent, error) {
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	src := r.EventSource
	if src == "" {
		src = r.EventSource2
	}
	switch {
	case src == "aws:sqs" || (src == "" && r.Body != nil):
		if r.Body == nil {
			return nil, errors.New("SQS record without a body")
		}
		evs, err := parsePayload([]byte(*r.Body), depth+1)
		if err != nil {
			return nil, fmt.Errorf("SQS message %s: %w", r.MessageID, err)
		}
		return evs, nil
	case src == "aws:sns" || (src == "" && r.Sns != nil):
		if r.Sns == nil {
			return nil, errors.New("SNS record without Sns")
		}
		evs, err := parsePayload([]byte(r.Sns.Message), depth+1)
		if err != nil {
			return nil, fmt.Errorf("SNS message: %w", err)
		}
		return evs, nil
	case r.S3 != nil:
		ev, err := s3Record(&r, src)
		if err != nil {
			return nil, err
		}
		return []ObjectEvent{ev}, nil
	}
	if src == "" {
		return nil, errors.New("record has no eventSource and no s3, body or Sns field")
	}
	return nil, fmt.Errorf("unsupported eventSource %q", src)
}

func s3Record(r *record, src string) (ObjectEvent, error) {
	ev := ObjectEvent{
		Bucket:    r.S3.Bucket.Name,
		EventName: strings.TrimPrefix(r.EventName, "s3:"),
		Source:    src,
		Sequencer: r.S3.Object.Sequencer,
	}
	if ev.Bucket == "" {
		return ObjectEvent{}, errors.New("missing s3.bucket.name")
	}
	if ev.EventName == "" {
		return ObjectEvent{}, errors.New("missing eventName")
	}
	var err error
	if versitygwConfigurations[r.S3.ConfigurationID] {
		// versitygw puts the key in as stored, not URL-encoded.
		if ev.Key = r.S3.Object.Key; ev.Key == "" {
			return ObjectEvent{}, errors.New("missing object key")
		}
	} else if ev.Key, err = DecodeKey(r.S3.Object.Key); err != nil {
		return ObjectEvent{}, err
	}
	if r.S3.Object.ETag != nil {
		ev.ETag = strings.Trim(*r.S3.Object.ETag, `"`)
	}
	if ev.Size, err = parseSize(r.S3.Object.Size); err != nil {
		return ObjectEvent{}, err
	}
	if ev.Time, err = parseEventTime(r.EventTime); err != nil {
		return ObjectEvent{}, err
	}
	return ev, nil
}

// versitygwConfigurations are the configurationId values versitygw (v1.8.0)
// gives its notifications, one per notification target. Unlike S3 and
// MinIO it sends object keys as they are, not URL-encoded: a key
// "night 1/a+b.fits" arrives as such, and decoding it would turn the "+"
// into a space.
var versitygwConfigurations = map[string]bool{
	"webhook-global": true, "kafka-global": true, "nats-global": true, "rabbitmq-global": true,
}

// eventBridgeDetail is the detail of an EventBridge S3 event.
type eventBridgeDetail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string          `json:"key"`
		Size      json.RawMessage `json:"size"`
		ETag      string          `json:"etag"`
		Sequencer string          `json:"sequencer"`
	} `json:"object"`
	Reason       string `json:"reason"`
	DeletionType string `json:"deletion-type"`
}

func parseEventBridge(env envelope) (ObjectEvent, error) {
	var d eventBridgeDetail
	if err := json.Unmarshal(env.Detail, &d); err != nil {
		return ObjectEvent{}, fmt.Errorf("decode detail: %w", err)
	}
	if env.Source != "aws.s3" {
		return ObjectEvent{}, fmt.Errorf("source is %q, not aws.s3", env.Source)
	}
	ev := ObjectEvent{
		Bucket:    d.Bucket.Name,
		ETag:      strings.Trim(d.Object.ETag, `"`),
		EventName: eventBridgeName(env.DetailType, d),
		Source:    env.Source,
		Sequencer: d.Object.Sequencer,
	}
	if ev.Bucket == "" {
		return ObjectEvent{}, errors.New("missing detail.bucket.name")
	}
	var err error
	if ev.Key, err = DecodeKey(d.Object.Key); err != nil {
		return ObjectEvent{}, err
	}
	if ev.Size, err = parseSize(d.Object.Size); err != nil {
		return ObjectEvent{}, err
	}
	if ev.Time, err = parseEventTime(env.Time); err != nil {
		return ObjectEvent{}, err
	}
	return ev, nil
}

// eventBridgeName maps an EventBridge detail type (and reason) to the S3
// notification event name.
func eventBridgeName(detailType string, d eventBridgeDetail) string {
	switch detailType {
	case "Object Created":
		switch d.Reason {
		case "PutObject":
			return "ObjectCreated:Put"
		case "POST Object":
			return "ObjectCreated:Post"
		case "CopyObject":
			return "ObjectCreated:Copy"
		case "CompleteMultipartUpload":
			return "ObjectCreated:CompleteMultipartUpload"
		}
		return "ObjectCreated:" + strings.ReplaceAll(d.Reason, " ", "")
	case "Object Deleted":
		if d.DeletionType == "Delete Marker Created" {
			return "ObjectRemoved:DeleteMarkerCreated"
		}
		return "ObjectRemoved:Delete"
	}
	// "Object Restore Completed" -> "ObjectRestore:Completed"
	w := strings.Fields(detailType)
	if len(w) >= 3 {
		return w[0] + w[1] + ":" + strings.Join(w[2:], "")
	}
	return strings.Join(w, "")
}

// DecodeKey decodes an object key as S3 event notifications encode it
// (application/x-www-form-urlencoded: "+" is a space, %XX a byte).
func DecodeKey(k string) (string, error) {
	if k == "" {
		return "", errors.New("missing object key")
	}
	d, err := url.QueryUnescape(k)
	if err != nil {
		return "", fmt.Errorf("decode object key %q: %w", k, err)
	}
	if d == "" {
		return "", fmt.Errorf("object key %q decodes to nothing", k)
	}
	return d, nil
}

func parseSize(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("object size %s is not a number", raw)
	}
	i, err := n.Int64()
	if err != nil || i < 0 {
		return 0, fmt.Errorf("object size %s is not a byte count", raw)
	}
	return i, nil
}

func parseEventTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("event time %q is not RFC 3339", s)
	}
	return t.UTC(), nil
}
