"""Raw cases: authentication (token, user/pass, users, bcrypt, NKEY,
no_auth_user, timeout) and permissions (publish/subscribe allow/deny, list
form, queue groups, allow_responses, deny filtering on delivery, reserved
subjects), with the exact -ERR texts and whether the connection stays open."""
import json

from harness import nkeys
from harness.raw import case, PUB

Q = {"verbose": False}

# bcrypt (cost 4) of "s3cret", made with Go's bcrypt.
S3CRET_HASH = "$2a$04$zS2xR9.sxZ1GuWWapHsTMezMweO0yF71xYNWhcZzIcCyIAr.hfbtq"

USERS = """
authorization {
  users = [
    { user: pub, password: p, permissions: {
        publish: { allow: ["foo.>", "req"], deny: "foo.secret" }
        subscribe: { allow: ["foo.*", "work v1", "jobs.> q.*"], deny: ["foo.hidden"] } } }
    { user: list, password: p, permissions: { publish: ["a", "b.*"], subscribe: "a" } }
    { user: svc, password: p, permissions: { subscribe: "req", allow_responses: true } }
    { user: svc2, password: p, permissions: {
        subscribe: "req", allow_responses: { max: 2, expires: "1m" } } }
    { user: qdeny, password: p, permissions: { subscribe: { deny: ["jobs v1", "secret.>"] } } }
    { user: all, password: p }
  ]
}
"""


def user(name, **extra):
    return dict(Q, user=name, **{"pass": "p"}, **extra)


# ------------------------------------------------------------ authentication

@case(flags=["--auth", "s3cr3t"])
def auth_token_flag_ok(t):
    c = t.conn(dict(Q, auth_token="s3cr3t"))
    c.exchange("PING\r\n")


@case(flags=["--auth", "s3cr3t"])
def auth_token_flag_bad(t):
    c = t.conn(dict(Q, auth_token="nope"))
    c.expect_closed()


@case(flags=["--auth", "s3cr3t"])
def auth_token_missing(t):
    c = t.conn(Q)
    c.expect_closed()


@case(config='authorization { token: "%s" }\n' % S3CRET_HASH)
def auth_token_bcrypt(t):
    t.conn(dict(Q, auth_token="s3cret")).exchange("PING\r\n")
    t.conn(dict(Q, auth_token=S3CRET_HASH)).expect_closed()


@case(flags=["--user", "u", "--pass", "p"])
def auth_user_flag(t):
    t.conn(dict(Q, user="u", **{"pass": "p"})).exchange("PING\r\n")
    t.conn(dict(Q, user="u", **{"pass": "x"})).expect_closed()
    t.conn(dict(Q, user="x", **{"pass": "p"})).expect_closed()
    t.conn(Q).expect_closed()


@case(config='authorization { user: u, password: "%s" }\n' % S3CRET_HASH)
def auth_user_config_bcrypt(t):
    t.conn(dict(Q, user="u", **{"pass": "s3cret"})).exchange("PING\r\n")
    t.conn(dict(Q, user="u", **{"pass": "wrong"})).expect_closed()


@case(config='authorization { users = [ {user: a, password: "%s"}, {user: b, password: pb} ] }\n'
      % S3CRET_HASH)
def auth_users(t):
    t.conn(dict(Q, user="a", **{"pass": "s3cret"})).exchange("PING\r\n")
    t.conn(dict(Q, user="b", **{"pass": "pb"})).exchange("PING\r\n")
    t.conn(dict(Q, user="a", **{"pass": "pb"})).expect_closed()
    t.conn(dict(Q, user="c", **{"pass": "pb"})).expect_closed()
    t.conn(dict(Q, auth_token="pb")).expect_closed()


@case(config='authorization { users = [ {user: a, password: x}, {user: anon, password: y} ] }\n'
      'no_auth_user: anon\n')
def auth_no_auth_user(t):
    t.conn(Q).exchange("PING\r\n")
    t.conn(dict(Q, user="a", **{"pass": "x"})).exchange("PING\r\n")
    t.conn(dict(Q, user="a", **{"pass": "y"})).expect_closed()
    t.conn(dict(Q, auth_token="t")).expect_closed()


@case(config="authorization { user: u, password: p, timeout: 0.5 }\n", timeout=20)
def auth_timeout_configured(t):
    c = t.conn(None)
    c.read(quiet=None, timeout=3)


@case(config="authorization { users = [ {user: u, password: p} ] }\n")
def auth_verbose_ok_and_second_connect(t):
    c = t.conn(dict(user="u", **{"pass": "p"}))
    c.exchange("PING\r\n")
    c.send('CONNECT {"verbose":true,"user":"u","pass":"bad"}\r\n')
    c.expect_closed()


@case(config="authorization { users = [ {nkey: {nkey_user}} ] }\n")
def auth_nkey_ok(t):
    c = t.conn(None, read_info=False)
    info = c.read(until=b"\r\n", quiet=None)
    nonce = json.loads(info[5:].decode())["nonce"]
    t.check(len(nonce) == 15, "nonce is 15 characters")
    c.send("CONNECT " + json.dumps(dict(Q, nkey=nkeys.PUBLIC, sig=nkeys.sign(nonce))) + "\r\n")
    c.exchange("PING\r\n")


@case(config="authorization { users = [ {nkey: {nkey_user}} ] }\n")
def auth_nkey_bad(t):
    # Signature of the wrong nonce, no signature, garbage, unknown key.
    for connect in (dict(Q, nkey=nkeys.PUBLIC, sig=nkeys.sign("not-the-nonce")),
                    dict(Q, nkey=nkeys.PUBLIC),
                    dict(Q, nkey=nkeys.PUBLIC, sig="!!!"),
                    dict(Q, nkey="UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4", sig="AAAA"),
                    dict(Q, user="u", **{"pass": "p"})):
        t.conn(connect).expect_closed()


@case(config="authorization { users = [ {nkey: {nkey_user}}, {user: u, password: p} ] }\n")
def auth_nkey_and_users(t):
    t.conn(dict(Q, user="u", **{"pass": "p"})).exchange("PING\r\n")
    t.conn(dict(Q, user="u", **{"pass": "x"})).expect_closed()


@case(flags=["--user", "u", "--pass", "p"])
def auth_account_in_connect_refused(t):
    t.conn(dict(Q, user="u", account="A", **{"pass": "p"})).expect_closed()


# ------------------------------------------------------------ permissions

@case(config=USERS)
def perm_publish_violation(t):
    sub = t.conn(user("all"))
    sub.exchange("SUB > 1\r\nPING\r\n")
    c = t.conn(user("pub", verbose=True))
    c.exchange(PUB("foo.secret", "x") + PUB("bar", "y") + PUB("foo.ok", "z") + "PING\r\n")
    sub.read(until="MSG foo.ok 1 1\r\nz\r\n", quiet=None)
    c.exchange(PUB("req", "r") + "PING\r\n")


@case(config=USERS)
def perm_publish_list_form(t):
    c = t.conn(user("list"))
    c.exchange(PUB("a", "1") + PUB("b.x", "2") + PUB("b", "3") + PUB("c", "4") + "PING\r\n")
    c.exchange("SUB a 1\r\nSUB b.x 2\r\nPING\r\n")


@case(config=USERS)
def perm_subscribe_violations(t):
    c = t.conn(user("pub"))
    c.exchange("SUB foo.x 1\r\nSUB foo.> 2\r\nSUB foo.a.b 3\r\nSUB foo.hidden 4\r\n"
               "SUB bar 5\r\nPING\r\n")


@case(config=USERS)
def perm_subscribe_queue(t):
    c = t.conn(user("pub"))
    c.exchange("SUB work 1\r\nSUB work v1 2\r\nSUB work v2 3\r\n"
               "SUB jobs.a q.blue 4\r\nSUB jobs.a r 5\r\nSUB jobs.a 6\r\nPING\r\n")


@case(config=USERS)
def perm_subscribe_queue_deny(t):
    c = t.conn(user("qdeny"))
    c.exchange("SUB jobs 1\r\nSUB jobs v1 2\r\nSUB jobs v2 3\r\nSUB secret.a 4\r\n"
               "SUB secret.* q 5\r\nPING\r\n")


@case(config=USERS)
def perm_deny_filters_wildcard_delivery(t):
    s = t.conn(user("pub"))
    s.exchange("SUB foo.* 1\r\nPING\r\n")
    q = t.conn(user("qdeny"))
    q.exchange("SUB > 1\r\nPING\r\n")
    p = t.conn(user("all"))
    p.exchange(PUB("foo.hidden", "h") + PUB("foo.shown", "s") + PUB("secret.x", "x")
               + PUB("other", "o") + "PING\r\n")
    s.read(until="MSG foo.shown 1 1\r\ns\r\n", quiet=None)
    q.read(until="MSG other 1 1\r\no\r\n", quiet=None)


@case(config=USERS)
def perm_allow_responses_default(t):
    svc = t.conn(user("svc"))
    svc.exchange("SUB req 1\r\nPING\r\n")
    cl = t.conn(user("all"))
    cl.exchange("SUB _INBOX.1 9\r\n" + "PUB req _INBOX.1 1\r\nq\r\nPING\r\n")
    svc.read(until="q\r\n", quiet=None)
    svc.exchange(PUB("_INBOX.1", "a") + PUB("_INBOX.1", "b") + PUB("other", "c") + "PING\r\n")
    cl.read(until="MSG _INBOX.1 9 1\r\na\r\n", quiet=None)


@case(config=USERS)
def perm_allow_responses_max(t):
    svc = t.conn(user("svc2"))
    svc.exchange("SUB req 1\r\nPING\r\n")
    cl = t.conn(user("all"))
    cl.exchange("SUB _INBOX.1 9\r\n" + "PUB req _INBOX.1 1\r\nq\r\nPING\r\n")
    svc.read(until="q\r\n", quiet=None)
    svc.exchange(PUB("_INBOX.1", "a") + PUB("_INBOX.1", "b") + PUB("_INBOX.1", "c")
                 + PUB("_INBOX.2", "d") + "PING\r\n")
    cl.read(until="MSG _INBOX.1 9 1\r\nb\r\n", quiet=None)


@case(config="""
authorization {
  default_permissions: { publish: { deny: "admin.>" }, subscribe: { deny: "admin.>" } }
  users = [ { user: a, password: p }, { user: root, password: p, permissions: {} } ]
}
""")
def perm_default_permissions(t):
    a = t.conn(user("a"))
    a.exchange(PUB("admin.x", "1") + PUB("ok", "2") + "SUB admin.y 1\r\nSUB ok 2\r\nPING\r\n")
    r = t.conn(user("root"))
    r.exchange(PUB("admin.x", "1") + "SUB admin.y 1\r\nPING\r\n")


@case()
def perm_reserved_subjects(t):
    c = t.conn(dict(Q, pedantic=False))
    c.exchange(PUB("_GR_.x.y", "1") + PUB("_GR_.", "1") + "PUB a _R_.y 1\r\n1\r\n"
               "PUB a _R_. 1\r\n1\r\nPUB a $JS.ACK.x 1\r\n1\r\nPUB a $JS.ACK. 1\r\n1\r\n"
               "PUB a _GR_.z 1\r\n1\r\nSUB x _sys_ 1\r\nPING\r\n")


@case(config=USERS)
def perm_reconnect_switches_user(t):
    c = t.conn(user("list"))
    c.exchange(PUB("zzz", "1") + "PING\r\n")
    c.send("CONNECT " + json.dumps(user("all")) + "\r\n")
    c.exchange(PUB("zzz", "1") + "PING\r\n")
