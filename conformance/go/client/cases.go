package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

const wait = 3 * time.Second

// recvAll reads n messages from a sync subscription and returns their data.
func recvAll(t *T, sub *nats.Subscription, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		m, err := sub.NextMsg(wait)
		t.Check(err, fmt.Sprintf("message %d", i))
		out = append(out, m.Subject+":"+string(m.Data))
	}
	return out
}

// none reports whether the subscription stays empty for a short while.
func none(t *T, sub *nats.Subscription) string {
	_, err := sub.NextMsg(200 * time.Millisecond)
	return ErrText(err)
}

func init() {
	reg("connect_info", func(t *T) {
		nc := t.Connect()
		t.Obs("connected=%v max_payload=%d headers=%v", nc.IsConnected(), nc.MaxPayload(), nc.HeadersSupported())
		t.Obs("auth_required=%v tls_required=%v", nc.AuthRequired(), nc.TLSRequired())
		t.Obs("discovered=%v", nc.DiscoveredServers())
	})
	reg("connect_max_payload_config", func(t *T) {
		nc := t.Connect()
		t.Obs("max_payload=%d", nc.MaxPayload())
		err := nc.Publish("foo", make([]byte, 4097))
		t.Obs("publish over max: %s", ErrText(err))
	}, "max_payload: 4096\n")
	reg("pub_sub_sync", func(t *T) {
		nc := t.Connect()
		sub, _ := nc.SubscribeSync("foo")
		nc.Publish("foo", []byte("hello"))
		nc.Publish("bar", []byte("nope"))
		nc.Publish("foo", []byte("again"))
		t.Obs("%v", recvAll(t, sub, 2))
		t.Obs("then: %s", none(t, sub))
	})
	reg("pub_sub_async_count", func(t *T) {
		nc := t.Connect()
		var n int64
		done := make(chan struct{})
		nc.Subscribe("count", func(m *nats.Msg) {
			if atomic.AddInt64(&n, 1) == 1000 {
				close(done)
			}
		})
		nc.Flush()
		nc2 := t.Connect()
		for i := 0; i < 1000; i++ {
			nc2.Publish("count", []byte(fmt.Sprint(i)))
		}
		nc2.Flush()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		t.Obs("received %d", atomic.LoadInt64(&n))
	})
	reg("chan_subscribe", func(t *T) {
		nc := t.Connect()
		ch := make(chan *nats.Msg, 10)
		nc.ChanSubscribe("ch", ch)
		nc.Publish("ch", []byte("one"))
		nc.Publish("ch", []byte("two"))
		for i := 0; i < 2; i++ {
			select {
			case m := <-ch:
				t.Obs("got %s", m.Data)
			case <-time.After(wait):
				t.Fail("timeout")
			}
		}
	})
	reg("wildcard_star", func(t *T) {
		nc := t.Connect()
		sub, _ := nc.SubscribeSync("a.*.c")
		for _, s := range []string{"a.b.c", "a.b", "a.b.c.d", "a.x.c"} {
			nc.Publish(s, []byte("x"))
		}
		t.Obs("%v", recvAll(t, sub, 2))
		t.Obs("then: %s", none(t, sub))
	})
	reg("wildcard_gt", func(t *T) {
		nc := t.Connect()
		sub, _ := nc.SubscribeSync("a.>")
		for _, s := range []string{"a", "a.b", "a.b.c", "b.a"} {
			nc.Publish(s, []byte("x"))
		}
		t.Obs("%v", recvAll(t, sub, 2))
		t.Obs("then: %s", none(t, sub))
	})
	reg("queue_even_spread", func(t *T) {
		const members, total = 4, 400
		var counts [members]int64
		var all int64
		for i := 0; i < members; i++ {
			i := i
			nc := t.Connect()
			nc.QueueSubscribe("work", "workers", func(m *nats.Msg) {
				atomic.AddInt64(&counts[i], 1)
				atomic.AddInt64(&all, 1)
			})
			nc.Flush()
		}
		pub := t.Connect()
		for i := 0; i < total; i++ {
			pub.Publish("work", []byte("x"))
		}
		pub.Flush()
		deadline := time.Now().Add(5 * time.Second)
		for atomic.LoadInt64(&all) < total && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		t.Obs("delivered %d of %d", atomic.LoadInt64(&all), total)
		fair := true
		for i := range counts {
			if atomic.LoadInt64(&counts[i]) < total/members/3 {
				fair = false
			}
		}
		t.Obs("every member got a fair share: %v", fair)
	})
	reg("queue_two_groups_and_plain", func(t *T) {
		nc := t.Connect()
		g1a, _ := nc.QueueSubscribeSync("q", "g1")
		g1b, _ := nc.QueueSubscribeSync("q", "g1")
		g2, _ := nc.QueueSubscribeSync("q", "g2")
		plain, _ := nc.SubscribeSync("q")
		for i := 0; i < 50; i++ {
			nc.Publish("q", []byte("m"))
		}
		nc.Flush()
		time.Sleep(300 * time.Millisecond)
		a, _, _ := g1a.Pending()
		b, _, _ := g1b.Pending()
		c, _, _ := g2.Pending()
		d, _, _ := plain.Pending()
		t.Obs("g1 total=%d g2=%d plain=%d", a+b, c, d)
	})
	reg("queue_sync_subscriber", func(t *T) {
		nc := t.Connect()
		sub, _ := nc.QueueSubscribeSync("qs", "grp")
		nc.Publish("qs", []byte("one"))
		t.Obs("%v", recvAll(t, sub, 1))
	})
	reg("request_reply_mux", func(t *T) {
		nc := t.Connect()
		nc.Subscribe("svc.echo", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
		for i := 0; i < 3; i++ {
			m, err := nc.Request("svc.echo", []byte(fmt.Sprint(i)), wait)
			t.Check(err, "request")
			t.Obs("reply %s", m.Data)
		}
	})
	reg("request_reply_old_style", func(t *T) {
		nc := t.Connect(nats.UseOldRequestStyle())
		srv := t.Connect()
		srv.Subscribe("svc.old", func(m *nats.Msg) { m.Respond([]byte("old:" + string(m.Data))) })
		srv.Flush()
		m, err := nc.Request("svc.old", []byte("x"), wait)
		t.Check(err, "request")
		t.Obs("reply %s", m.Data)
	})
	reg("request_concurrent", func(t *T) {
		nc := t.Connect()
		srv := t.Connect()
		srv.QueueSubscribe("svc.par", "s", func(m *nats.Msg) { m.Respond(m.Data) })
		srv.Flush()
		var wg sync.WaitGroup
		var ok int64
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				m, err := nc.Request("svc.par", []byte(fmt.Sprint(i)), wait)
				if err == nil && string(m.Data) == fmt.Sprint(i) {
					atomic.AddInt64(&ok, 1)
				}
			}(i)
		}
		wg.Wait()
		t.Obs("correct replies: %d", ok)
	})
	reg("request_custom_inbox_prefix", func(t *T) {
		nc := t.Connect(nats.CustomInboxPrefix("_MYBOX"))
		nc.Subscribe("svc.inbox", func(m *nats.Msg) {
			m.Respond([]byte(fmt.Sprint(strings.HasPrefix(m.Reply, "_MYBOX."))))
		})
		m, err := nc.Request("svc.inbox", nil, wait)
		t.Check(err, "request")
		t.Obs("reply had custom prefix: %s", m.Data)
	})
	reg("request_timeout_with_responder_silent", func(t *T) {
		nc := t.Connect()
		nc.SubscribeSync("svc.silent")
		_, err := nc.Request("svc.silent", nil, 300*time.Millisecond)
		t.Obs("err: %s", ErrText(err))
	})
	reg("no_responders", func(t *T) {
		nc := t.Connect()
		_, err := nc.Request("nobody.home", []byte("?"), wait)
		t.Obs("err: %s", ErrText(err))
		_, err = t.Connect(nats.UseOldRequestStyle()).Request("nobody.home", nil, wait)
		t.Obs("old style err: %s", ErrText(err))
	})
	reg("headers_roundtrip", func(t *T) {
		nc := t.Connect()
		sub, _ := nc.SubscribeSync("h")
		msg := nats.NewMsg("h")
		msg.Header.Set("X-One", "1")
		msg.Header.Add("X-Multi", "a")
		msg.Header.Add("X-Multi", "b")
		msg.Data = []byte("body")
		t.Check(nc.PublishMsg(msg), "publish")
		m, err := sub.NextMsg(wait)
		t.Check(err, "next")
		keys := []string{}
		for k := range m.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.Obs("%s=%v", k, m.Header.Values(k))
		}
		t.Obs("data=%s", m.Data)
	})
	reg("headers_request_reply", func(t *T) {
		nc := t.Connect()
		nc.Subscribe("hsvc", func(m *nats.Msg) {
			r := nats.NewMsg(m.Reply)
			r.Header.Set("Echo", m.Header.Get("Ask"))
			r.Data = []byte("ok")
			m.RespondMsg(r)
		})
		req := nats.NewMsg("hsvc")
		req.Header.Set("Ask", "question")
		m, err := nc.RequestMsg(req, wait)
		t.Check(err, "request")
		t.Obs("echo=%s data=%s", m.Header.Get("Echo"), m.Data)
	})
	reg("echo_off", func(t *T) {
		nc := t.Connect(nats.NoEcho())
		sub, _ := nc.SubscribeSync("e")
		nc.Publish("e", []byte("self"))
		nc.Flush()
		other := t.Connect()
		other.Publish("e", []byte("other"))
		other.Flush()
		t.Obs("%v", recvAll(t, sub, 1))
		t.Obs("then: %s", none(t, sub))
	})
	reg("auto_unsubscribe", func(t *T) {
		nc := t.Connect()
		sub, _ := nc.SubscribeSync("au")
		sub.AutoUnsubscribe(3)
		for i := 0; i < 6; i++ {
			nc.Publish("au", []byte(fmt.Sprint(i)))
		}
		t.Obs("%v", recvAll(t, sub, 3))
		_, err := sub.NextMsg(200 * time.Millisecond)
		t.Obs("then: %s valid=%v", ErrText(err), sub.IsValid())
	})
	reg("unsubscribe_then_publish", func(t *T) {
		nc := t.Connect()
		var n int64
		sub, _ := nc.Subscribe("us", func(*nats.Msg) { atomic.AddInt64(&n, 1) })
		nc.Publish("us", nil)
		nc.Flush()
		time.Sleep(100 * time.Millisecond)
		sub.Unsubscribe()
		nc.Publish("us", nil)
		nc.Flush()
		time.Sleep(100 * time.Millisecond)
		t.Obs("received %d", atomic.LoadInt64(&n))
	})
	reg("drain_subscription", func(t *T) {
		nc := t.Connect()
		var n int64
		sub, _ := nc.Subscribe("dr", func(*nats.Msg) {
			time.Sleep(time.Millisecond)
			atomic.AddInt64(&n, 1)
		})
		for i := 0; i < 100; i++ {
			nc.Publish("dr", nil)
		}
		nc.Flush()
		t.Check(sub.Drain(), "drain")
		for i := 0; i < 300 && sub.IsValid(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		t.Obs("processed %d valid=%v", atomic.LoadInt64(&n), sub.IsValid())
	})
	reg("drain_connection", func(t *T) {
		closed := make(chan struct{})
		nc := t.Connect(nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
		var n int64
		nc.Subscribe("dc", func(*nats.Msg) { atomic.AddInt64(&n, 1) })
		pub := t.Connect()
		pub.Flush()
		nc.Flush()
		for i := 0; i < 200; i++ {
			pub.Publish("dc", nil)
		}
		pub.Flush()
		time.Sleep(100 * time.Millisecond)
		t.Check(nc.Drain(), "drain")
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fail("not closed after drain")
		}
		t.Obs("processed %d closed=%v", atomic.LoadInt64(&n), nc.IsClosed())
	})
	reg("flush_and_rtt", func(t *T) {
		nc := t.Connect()
		t.Obs("flush: %s", ErrText(nc.FlushTimeout(wait)))
		_, err := nc.RTT()
		t.Obs("rtt: %s", ErrText(err))
	})
	reg("large_payload_max", func(t *T) {
		nc := t.Connect()
		sub, _ := nc.SubscribeSync("big")
		data := make([]byte, nc.MaxPayload())
		for i := range data {
			data[i] = byte(i * 7)
		}
		t.Check(nc.Publish("big", data), "publish")
		m, err := sub.NextMsg(wait)
		t.Check(err, "next")
		t.Obs("len=%d intact=%v", len(m.Data), string(m.Data) == string(data))
		t.Obs("over max: %s", ErrText(nc.Publish("big", append(data, 0))))
	})
	reg("stats_counts", func(t *T) {
		nc := t.Connect()
		sub, _ := nc.SubscribeSync("st")
		for i := 0; i < 10; i++ {
			nc.Publish("st", []byte("12345"))
		}
		recvAll(t, sub, 10)
		s := nc.Stats()
		t.Obs("in=%d/%d out=%d/%d", s.InMsgs, s.InBytes, s.OutMsgs, s.OutBytes)
	})
	reg("reconnect_after_restart", func(t *T) {
		reconnected := make(chan struct{}, 1)
		nc := t.Connect(nats.ReconnectWait(100*time.Millisecond), nats.MaxReconnects(-1),
			nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
		sub, _ := nc.SubscribeSync("rc")
		nc.Flush()
		t.Control("restart")
		select {
		case <-reconnected:
		case <-time.After(10 * time.Second):
			t.Fail("no reconnect")
		}
		nc.Publish("rc", []byte("after"))
		t.Obs("%v", recvAll(t, sub, 1))
		t.Obs("reconnects=%d", nc.Stats().Reconnects)
	}, 40)
	reg("lame_duck_mode", func(t *T) {
		ldm := make(chan struct{}, 1)
		nc := t.Connect(nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }))
		t.Check(nc.Flush(), "flush")
		t.Control("signal USR2")
		select {
		case <-ldm:
			t.Obs("lame duck mode notified")
		case <-time.After(10 * time.Second):
			t.Fail("no lame duck notification")
		}
		// The INFO is sent after the listener is closed; the clients are
		// only closed after the grace period (10 s by default).
		_, err := nats.Connect(t.URL, nats.Timeout(2*time.Second))
		t.Obs("new connection: %s", ErrText(err))
		t.Obs("still connected: %v", nc.IsConnected())
	})
	reg("lame_duck_reconnects_elsewhere", func(t *T) {
		// Two servers of the same kind; the client knows both and is on the
		// first. Lame duck mode on the first must move it to the second
		// (the grace period is shortened so that the close comes soon).
		spare := t.Spare()
		ldm := make(chan struct{}, 1)
		reconnected := make(chan string, 1)
		nc, err := nats.Connect(t.URL+","+spare, nats.DontRandomize(),
			nats.ReconnectWait(100*time.Millisecond), nats.MaxReconnects(-1),
			nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }),
			nats.ReconnectHandler(func(c *nats.Conn) { reconnected <- c.ConnectedUrl() }))
		t.Check(err, "connect")
		defer nc.Close()
		sub, _ := nc.SubscribeSync("moved")
		t.Check(nc.Flush(), "flush")
		t.Obs("on first: %v", nc.ConnectedUrl() == t.URL)
		t.Control("signal USR2")
		select {
		case <-ldm:
			t.Obs("lame duck mode notified")
		case <-time.After(10 * time.Second):
			t.Fail("no lame duck notification")
		}
		select {
		case url := <-reconnected:
			t.Obs("reconnected to spare: %v", url == spare)
		case <-time.After(20 * time.Second):
			t.Fail("no reconnect to the spare")
		}
		// The subscription moved with it.
		t.Check(nc.Publish("moved", []byte("here")), "publish")
		t.Obs("%v", recvAll(t, sub, 1))
	}, "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1s\"\n", 60)
	reg("reconnect_buffered_publish", func(t *T) {
		reconnected := make(chan struct{}, 1)
		nc := t.Connect(nats.ReconnectWait(100*time.Millisecond), nats.MaxReconnects(-1),
			nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
		// The subscriber is the same connection: nats.go replays its
		// subscriptions before the buffered publishes, so the message must
		// arrive. (A second client would race its own reconnect.)
		sub, _ := nc.SubscribeSync("buf")
		nc.Flush()
		t.Control("stop")
		for nc.IsConnected() {
			time.Sleep(10 * time.Millisecond)
		}
		t.Obs("publish while down: %s", ErrText(nc.Publish("buf", []byte("queued"))))
		t.Control("start")
		select {
		case <-reconnected:
		case <-time.After(10 * time.Second):
			t.Fail("no reconnect")
		}
		nc.Flush()
		m, err := sub.NextMsg(wait)
		t.Obs("buffered msg: %s", func() string {
			if err != nil {
				return "lost (" + err.Error() + ")"
			}
			return string(m.Data)
		}())
	}, 40)
	reg("auth_user_pass", func(t *T) {
		nc := t.Connect(nats.UserInfo("alice", "secret"))
		t.Obs("ok: %s", ErrText(nc.Flush()))
		_, err := nats.Connect(t.URL, nats.UserInfo("alice", "wrong"))
		t.Obs("wrong password: %s", ErrText(err))
		_, err = nats.Connect(t.URL)
		t.Obs("no credentials: %s", ErrText(err))
	}, []string{"--user", "alice", "--pass", "secret"})
	reg("auth_token", func(t *T) {
		nc := t.Connect(nats.Token("tok3n"))
		t.Obs("ok: %s", ErrText(nc.Flush()))
		_, err := nats.Connect(t.URL, nats.Token("bad"))
		t.Obs("bad token: %s", ErrText(err))
	}, []string{"--auth", "tok3n"})
	reg("max_connections", func(t *T) {
		// Retry the first connection while the harness's readiness probe is being reaped.
		for i := 0; i < 30; i++ {
			if nc, err := nats.Connect(t.URL); err == nil {
				t.conns = append(t.conns, nc)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		_, err := nats.Connect(t.URL)
		// nats.go may see either the -ERR or the closed socket first; both are a refusal.
		t.Obs("second refused: %v", err != nil)
	}, "max_connections: 1\n")
	reg("max_subscriptions_async_error", func(t *T) {
		errs := make(chan error, 10)
		nc := t.Connect(nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		nc.SubscribeSync("a")
		nc.SubscribeSync("b")
		nc.SubscribeSync("c")
		nc.Flush()
		select {
		case err := <-errs:
			t.Obs("async error: %s", ErrText(err))
		case <-time.After(time.Second):
			t.Obs("no async error")
		}
		time.Sleep(100 * time.Millisecond)
		t.Obs("connected=%v last error: %s", nc.IsConnected(), ErrText(nc.LastError()))
	}, "max_subscriptions: 2\n")
	reg("verbose_mode", func(t *T) {
		nc := t.Connect(func(o *nats.Options) error { o.Verbose = true; return nil })
		sub, _ := nc.SubscribeSync("v")
		nc.Publish("v", []byte("x"))
		t.Obs("%v", recvAll(t, sub, 1))
		t.Obs("flush: %s", ErrText(nc.Flush()))
	})
	reg("pedantic_wildcard_publish", func(t *T) {
		errs := make(chan error, 10)
		nc := t.Connect(func(o *nats.Options) error { o.Pedantic = true; return nil },
			nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
		nc.Publish("foo.*", []byte("x"))
		nc.Flush()
		select {
		case err := <-errs:
			t.Obs("async error: %s", ErrText(err))
		case <-time.After(time.Second):
			t.Obs("no async error")
		}
		t.Obs("connected=%v last error: %s", nc.IsConnected(), ErrText(nc.LastError()))
	})
	reg("client_ping_interval", func(t *T) {
		nc := t.Connect(nats.PingInterval(50*time.Millisecond), nats.MaxPingsOutstanding(2))
		time.Sleep(500 * time.Millisecond)
		t.Obs("still connected: %v", nc.IsConnected())
	})
	reg("server_ping_interval_answered", func(t *T) {
		nc := t.Connect()
		time.Sleep(700 * time.Millisecond)
		t.Obs("still connected: %v", nc.IsConnected())
	}, "ping_interval: \"100ms\"\nping_max: 2\n")
	reg("slow_consumer_client_pending_limits", func(t *T) {
		errs := make(chan error, 100)
		nc := t.Connect(nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			select {
			case errs <- err:
			default:
			}
		}))
		block := make(chan struct{})
		sub, _ := nc.Subscribe("sc", func(*nats.Msg) { <-block })
		sub.SetPendingLimits(10, 1024*1024)
		for i := 0; i < 50; i++ {
			nc.Publish("sc", []byte("x"))
		}
		nc.Flush()
		select {
		case err := <-errs:
			t.Obs("async error: %s", ErrText(err))
		case <-time.After(time.Second):
			t.Obs("no async error")
		}
		close(block)
	})
	reg("close_handlers", func(t *T) {
		closed := make(chan struct{})
		nc, err := nats.Connect(t.URL, nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
		t.Check(err, "connect")
		t.Obs("status before: %v", nc.Status())
		nc.Close()
		<-closed
		t.Obs("status after: %v publish: %s", nc.Status(), ErrText(nc.Publish("x", nil)))
	})
	reg("subject_validation_client_side", func(t *T) {
		nc := t.Connect()
		_, err := nc.SubscribeSync("")
		t.Obs("empty subject: %s", ErrText(err))
		_, err = nc.QueueSubscribeSync("ok", "bad queue")
		t.Obs("bad queue: %s", ErrText(err))
		t.Obs("flush: %s", ErrText(nc.Flush()))
	})
}
