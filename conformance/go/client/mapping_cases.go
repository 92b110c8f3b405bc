package main

// Subject mappings as nats.go sees them: a request to a mapped subject
// reaches the service on the mapped one and the reply comes back; a
// partitioned mapping spreads subjects over the same partitions on both
// servers; a request mapped to a subject nobody serves gets no responders.

import (
	"time"

	"github.com/nats-io/nats.go"
)

const mappingsConf = `
mappings {
  "svc.v1": "svc.v2"
  "orders.*": "orders.{{partition(3,1)}}.{{wildcard(1)}}"
  "gone": "nowhere"
}
`

func init() {
	reg("mapping_request_reply", func(t *T) {
		nc := t.Connect()
		sub, err := nc.Subscribe("svc.v2", func(m *nats.Msg) { m.Respond([]byte("v2:" + string(m.Data))) })
		t.Check(err, "subscribe")
		defer sub.Unsubscribe()
		nc.Flush()
		r, err := nc.Request("svc.v1", []byte("hi"), 2*time.Second)
		t.Check(err, "request")
		t.Obs("reply %s", string(r.Data))
		_, err = nc.Request("gone", []byte("x"), 500*time.Millisecond)
		t.Obs("request to a mapped subject nobody serves: %s", ErrText(err))
	}, mappingsConf)
	reg("mapping_partitions", func(t *T) {
		nc := t.Connect()
		sub, err := nc.SubscribeSync("orders.*.*")
		t.Check(err, "subscribe")
		nc.Flush()
		ids := []string{"a1", "b2", "c3", "d4", "e5", "f6"}
		for _, id := range ids {
			nc.Publish("orders."+id, []byte(id))
		}
		t.Obs("%v", recvAll(t, sub, len(ids)))
	}, mappingsConf)
}
