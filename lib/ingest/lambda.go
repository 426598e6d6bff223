package ingest

import (
	"context"
	"encoding/json"
	"fmt"
)

// HandleSQS ingests the uploads of one SQS event (one commit for the whole
// batch) and returns the partial batch response: messages whose body could
// not be parsed, or whose files failed, are listed so that SQS retries them
// and finally moves them to the dead-letter queue; the others are deleted.
// An error means nothing could be committed: every message is retried.
func (h *Handler) HandleSQS(ctx context.Context, body []byte) (SQSBatchResponse, error) {
	var resp SQSBatchResponse
	msgs, err := ParseSQSEvent(body)
	if err != nil {
		return resp, err
	}
	var events []ObjectEvent
	owner := map[string][]string{} // source URI -> message IDs
	for _, m := range msgs {
		if m.Err != nil {
			h.logger().Warn("ingest: unreadable SQS message", "message_id", m.MessageID, "err", m.Err)
			resp.Fail(m.MessageID)
			continue
		}
		for _, ev := range m.Events {
			uri := "s3://" + ev.Bucket + "/" + ev.Key
			owner[uri] = append(owner[uri], m.MessageID)
		}
		events = append(events, m.Events...)
	}
	outcomes, err := h.HandleEvents(ctx, events)
	if err != nil {
		return SQSBatchResponse{}, err
	}
	for _, o := range outcomes {
		if o.Status == Failed {
			for _, id := range owner[o.Source] {
				resp.Fail(id)
			}
		}
	}
	return resp, nil
}

// HandleLambda handles what an ingest function receives: an SQS event
// (answered with a partial batch response), or an S3 or EventBridge event
// invoking it directly (answered with the outcomes; an error when any file
// failed, so that the invocation is retried and finally dead-lettered).
func (h *Handler) HandleLambda(ctx context.Context, body json.RawMessage) (any, error) {
	if isSQS(body) {
		return h.HandleSQS(ctx, body)
	}
	events, err := ParseEvents(body)
	if err != nil {
		return nil, err
	}
	outcomes, err := h.HandleEvents(ctx, events)
	if err != nil {
		return nil, err
	}
	for _, o := range outcomes {
		if o.Status == Failed {
			return outcomes, fmt.Errorf("ingest %s: %s", o.Source, o.Error)
		}
	}
	return outcomes, nil
}

func isSQS(body []byte) bool {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	return json.Unmarshal(body, &probe) == nil && len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs"
}
