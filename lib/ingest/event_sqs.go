package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
)

// SQSMessage is one message of an SQS event with the object events its
// body carries, or the error parsing it.
type SQSMessage struct {
	MessageID string
	Events    []ObjectEvent
	Err       error
}

// ParseSQSEvent parses the event Lambda receives from an SQS queue,
// message by message: a message whose body cannot be parsed gets Err (and
// should be reported in the batch response, or left to the dead-letter
// queue) without failing the others. The error return is for a payload that
// is not an SQS event at all.
func ParseSQSEvent(body []byte) ([]SQSMessage, error) {
	var env struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("parse SQS event: decode JSON: %w", err)
	}
	if env.Records == nil {
		return nil, errors.New("parse SQS event: no Records")
	}
	out := make([]SQSMessage, 0, len(env.Records))
	for i, raw := range env.Records {
		var r struct {
			MessageID   string  `json:"messageId"`
			EventSource string  `json:"eventSource"`
			Body        *string `json:"body"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("parse SQS event: record %d: %w", i, err)
		}
		if r.EventSource != "aws:sqs" || r.MessageID == "" {
			return nil, fmt.Errorf("parse SQS event: record %d is not an SQS message (eventSource %q, messageId %q)", i, r.EventSource, r.MessageID)
		}
		m := SQSMessage{MessageID: r.MessageID}
		if r.Body == nil {
			m.Err = fmt.Errorf("SQS message %s has no body", r.MessageID)
		} else if evs, err := parsePayload([]byte(*r.Body), 1); err != nil {
			m.Err = fmt.Errorf("parse SQS message %s: %w", r.MessageID, err)
		} else {
			m.Events = evs
		}
		out = append(out, m)
	}
	return out, nil
}

// SQSBatchResponse is the partial batch response a Lambda function returns
// for an SQS event source with ReportBatchItemFailures: the messages listed
// are retried (and eventually dead-lettered), the others deleted.
type SQSBatchResponse struct {
	BatchItemFailures []BatchItemFailure `json:"batchItemFailures"`
}

// BatchItemFailure names one failed SQS message.
type BatchItemFailure struct {
	ItemIdentifier string `json:"itemIdentifier"`
}

// Fail adds messageID to the failures once.
func (r *SQSBatchResponse) Fail(messageID string) {
	for _, f := range r.BatchItemFailures {
		if f.ItemIdentifier == messageID {
			return
		}
	}
	r.BatchItemFailures = append(r.BatchItemFailures, BatchItemFailure{ItemIdentifier: messageID})
}

// MarshalJSON writes an empty list, not null, when nothing failed.
func (r SQSBatchResponse) MarshalJSON() ([]byte, error) {
	f := r.BatchItemFailures
	if f == nil {
		f = []BatchItemFailure{}
	}
	return json.Marshal(struct {
		BatchItemFailures []BatchItemFailure `json:"batchItemFailures"`
	}{f})
}
