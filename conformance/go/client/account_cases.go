package main

// Accounts: logging in to account users, isolation between accounts, a
// stream import with a prefix and a service import request/reply, as
// nats.go sees them.

import (
	"time"

	"github.com/nats-io/nats.go"
)

const accountsConf = `
accounts {
  A: {
    users: [ {user: a, password: a} ]
    exports: [ {stream: "foo.>"}, {service: "req.*", accounts: [B]} ]
  }
  B: {
    users: [ {user: b, password: b} ]
    imports: [
      {stream: {account: A, subject: "foo.>"}, prefix: "x"}
      {service: {account: A, subject: "req.a"}, to: "local.req"}
    ]
  }
  C: { users: [ {user: c, password: c} ] }
}
`

func init() {
	reg("acc_go_isolation_and_stream_import", func(t *T) {
		a := t.Connect(nats.UserInfo("a", "a"))
		b := t.Connect(nats.UserInfo("b", "b"))
		c := t.Connect(nats.UserInfo("c", "c"))
		bsub, _ := b.SubscribeSync("x.foo.>")
		bown, _ := b.SubscribeSync("foo.>")
		csub, _ := c.SubscribeSync(">")
		t.Check(b.Flush(), "flush b")
		t.Check(c.Flush(), "flush c")
		t.Check(a.Publish("foo.bar", []byte("hi")), "publish")
		t.Check(a.Flush(), "flush a")
		m, err := bsub.NextMsg(2 * time.Second)
		if err == nil {
			t.Obs("b got %s %q", m.Subject, m.Data)
		} else {
			t.Obs("b: %s", ErrText(err))
		}
		_, err = bown.NextMsg(300 * time.Millisecond)
		t.Obs("b foo.>: %s", ErrText(err))
		_, err = csub.NextMsg(300 * time.Millisecond)
		t.Obs("c >: %s", ErrText(err))
	}, accountsConf)

	reg("acc_go_service_import", func(t *T) {
		a := t.Connect(nats.UserInfo("a", "a"))
		b := t.Connect(nats.UserInfo("b", "b"))
		_, err := a.Subscribe("req.*", func(m *nats.Msg) {
			t.Obs("responder got %s has request info: %v", m.Subject, m.Header.Get("Nats-Request-Info") != "")
			m.Respond([]byte("pong"))
		})
		t.Check(err, "subscribe")
		t.Check(a.Flush(), "flush")
		r, err := b.Request("local.req", []byte("ping"), 2*time.Second)
		if err == nil {
			t.Obs("reply %q", r.Data)
		} else {
			t.Obs("request: %s", ErrText(err))
		}
		_, err = b.Request("req.a", []byte("ping"), 500*time.Millisecond)
		t.Obs("direct: %s", ErrText(err))
		_, err = nats.Connect(t.URL, nats.UserInfo("a", "wrong"))
		t.Obs("bad login: %s", ErrText(err))
	}, accountsConf)
}
