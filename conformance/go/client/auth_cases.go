package main

// Authentication and permissions: each auth method, each permission form,
// and the failures, as nats.go sees them.

import (
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// bcrypt (cost 4) of "s3cret", made with Go's bcrypt.
const s3cretHash = "$2a$04$zS2xR9.sxZ1GuWWapHsTMezMweO0yF71xYNWhcZzIcCyIAr.hfbtq"

const permUsers = `
authorization {
  users = [
    { user: pub, password: p, permissions: {
        publish: { allow: ["foo.>", "req"], deny: "foo.secret" }
        subscribe: { allow: ["foo.*", "work v1"], deny: "foo.hidden" } } }
    { user: list, password: p, permissions: { publish: ["a"], subscribe: ["a"] } }
    { user: svc, password: p, permissions: { subscribe: "req", allow_responses: { max: 1 } } }
    { user: all, password: "` + s3cretHash + `" }
  ]
}
`

// nkeyOption signs the server's nonce with the run's user seed
// (conformance/harness/nkeys.py exports it).
func nkeyOption(t *T, seed string) nats.Option {
	kp, err := nkeys.FromSeed([]byte(seed))
	t.Check(err, "seed")
	pub, _ := kp.PublicKey()
	return nats.Nkey(pub, func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) })
}

// asyncErrs collects the connection's asynchronous errors (-ERR texts).
func asyncErrs() (nats.Option, chan error) {
	errs := make(chan error, 16)
	return nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }), errs
}

func nextErr(errs chan error) string {
	select {
	case err := <-errs:
		return ErrText(err)
	case <-time.After(time.Second):
		return "no async error"
	}
}

func init() {
	reg("auth_nkey", func(t *T) {
		nc := t.Connect(nkeyOption(t, os.Getenv("NATS_NKEY_SEED")))
		t.Obs("ok: %s auth_required=%v", ErrText(nc.Flush()), nc.AuthRequired())
		other, _ := nkeys.CreateUser()
		seed, _ := other.Seed()
		_, err := nats.Connect(t.URL, nkeyOption(t, string(seed)))
		t.Obs("unknown key: %s", ErrText(err))
		_, err = nats.Connect(t.URL, nats.UserInfo("u", "p"))
		t.Obs("user instead: %s", ErrText(err))
	}, "authorization { users = [ {nkey: {nkey_user}} ] }\n")
	reg("auth_bcrypt_users", func(t *T) {
		nc := t.Connect(nats.UserInfo("all", "s3cret"))
		t.Obs("ok: %s", ErrText(nc.Flush()))
		_, err := nats.Connect(t.URL, nats.UserInfo("all", s3cretHash))
		t.Obs("hash as password: %s", ErrText(err))
		_, err = nats.Connect(t.URL, nats.UserInfo("nobody", "p"))
		t.Obs("unknown user: %s", ErrText(err))
	}, permUsers)
	reg("auth_bcrypt_token", func(t *T) {
		nc := t.Connect(nats.Token("s3cret"))
		t.Obs("ok: %s", ErrText(nc.Flush()))
		_, err := nats.Connect(t.URL, nats.Token("nope"))
		t.Obs("bad token: %s", ErrText(err))
	}, "authorization { token: \""+s3cretHash+"\" }\n")
	reg("auth_no_auth_user", func(t *T) {
		nc := t.Connect()
		t.Obs("anonymous: %s auth_required=%v", ErrText(nc.Flush()), nc.AuthRequired())
		err := nc.Publish("private", []byte("x"))
		nc.Flush()
		t.Obs("publish: %s", ErrText(err))
		_, err = nats.Connect(t.URL, nats.UserInfo("admin", "wrong"))
		t.Obs("wrong password: %s", ErrText(err))
	}, `authorization { users = [ {user: admin, password: pw}, {user: anon, password: x} ] }
no_auth_user: anon
`)
	reg("perm_publish_deny", func(t *T) {
		opt, errs := asyncErrs()
		nc := t.Connect(nats.UserInfo("pub", "p"), opt)
		all := t.Connect(nats.UserInfo("all", "s3cret"))
		sub, _ := all.SubscribeSync(">")
		all.Flush()
		nc.Publish("foo.secret", []byte("1"))
		t.Obs("denied: %s", nextErr(errs))
		nc.Publish("bar", []byte("2"))
		t.Obs("not allowed: %s", nextErr(errs))
		nc.Publish("foo.ok", []byte("3"))
		t.Obs("still connected: %v %s", nc.IsConnected(), ErrText(nc.Flush()))
		t.Obs("%v then %s", recvAll(t, sub, 1), none(t, sub))
	}, permUsers)
	reg("perm_subscribe_deny_and_queue", func(t *T) {
		opt, errs := asyncErrs()
		nc := t.Connect(nats.UserInfo("pub", "p"), opt)
		nc.SubscribeSync("foo.a.b")
		t.Obs("not allowed: %s", nextErr(errs))
		nc.SubscribeSync("foo.hidden")
		t.Obs("denied: %s", nextErr(errs))
		nc.QueueSubscribeSync("work", "v2")
		t.Obs("wrong queue: %s", nextErr(errs))
		_, err := nc.QueueSubscribeSync("work", "v1")
		nc.Flush()
		t.Obs("right queue: %s, then %s", ErrText(err), nextErr(errs))
	}, permUsers)
	reg("perm_list_form", func(t *T) {
		opt, errs := asyncErrs()
		nc := t.Connect(nats.UserInfo("list", "p"), opt)
		sub, _ := nc.SubscribeSync("a")
		nc.Publish("a", []byte("ok"))
		nc.Publish("b", []byte("no"))
		t.Obs("%v; %s", recvAll(t, sub, 1), nextErr(errs))
	}, permUsers)
	reg("perm_wildcard_sub_filtered", func(t *T) {
		nc := t.Connect(nats.UserInfo("pub", "p"))
		sub, _ := nc.SubscribeSync("foo.*")
		nc.Flush()
		all := t.Connect(nats.UserInfo("all", "s3cret"))
		all.Publish("foo.hidden", []byte("h"))
		all.Publish("foo.shown", []byte("s"))
		all.Flush()
		t.Obs("%v then %s", recvAll(t, sub, 1), none(t, sub))
	}, permUsers)
	reg("perm_allow_responses", func(t *T) {
		opt, errs := asyncErrs()
		svc := t.Connect(nats.UserInfo("svc", "p"), opt)
		svc.Subscribe("req", func(m *nats.Msg) {
			m.Respond([]byte("first"))
			m.Respond([]byte("second"))
		})
		svc.Flush()
		cl := t.Connect(nats.UserInfo("all", "s3cret"))
		inbox := "_INBOX.conformance" // fixed: observations print it
		rs, _ := cl.SubscribeSync(inbox)
		cl.PublishRequest("req", inbox, []byte("q"))
		m, err := rs.NextMsg(wait)
		t.Check(err, "reply")
		t.Obs("reply: %s then %s", string(m.Data), none(t, rs))
		t.Obs("second response: %s", nextErr(errs))
		svc.Publish("elsewhere", nil)
		t.Obs("other publish: %s", nextErr(errs))
	}, permUsers)
}
