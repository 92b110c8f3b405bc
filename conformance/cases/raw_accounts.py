"""Raw cases: multiple accounts from the config file — logging in to account
users, isolation between accounts, stream imports (prefix and to), service
imports (the "_R_." reply mapping, the Nats-Request-Info header, singleton
responses), restricted exports, and /accountz and /connz.

Random parts are normalised: the "_R_.<prefix>.<id>" reply subjects and the
requester's round-trip time in Nats-Request-Info. The reference's system
account ($SYS, its internal imports and subscriptions) is left out, as in
raw_monitor.py.
"""
import json
import re
import urllib.request

from harness.raw import case, PUB

ACCOUNTS = """
accounts {
  A: {
    users: [ {user: a, password: a} ]
    exports: [ {stream: "foo.>"}, {service: "req.*", accounts: [B]}, {stream: "only.c", accounts: [C]} ]
  }
  B: {
    users: [ {user: b, password: b} ]
    imports: [
      {stream: {account: A, subject: "foo.>"}, prefix: "x"}
      {service: {account: A, subject: "req.a"}, to: "local.req"}
    ]
  }
  C: {
    users: [ {user: c, password: c} ]
    imports: [ {stream: {account: A, subject: "foo.bar"}, to: "renamed"} ]
  }
  D: { users: [ {user: d, password: d} ] }
}
"""
MON_ACCOUNTS = "http: {http_port}\n" + ACCOUNTS


def login(user, **extra):
    return dict({"verbose": False, "user": user, "pass": user}, **extra)


def settle(t, *conns):
    for c in conns:
        c.exchange("PING\r\n")


@case(config=ACCOUNTS)
def acc_login_account_users(t):
    for user in ["a", "b", "c", "d"]:
        t.conn(login(user)).exchange("PING\r\n")
    t.conn(dict(login("a"), **{"pass": "wrong"})).expect_closed()
    t.conn({"verbose": False, "user": "nobody", "pass": "x"}).expect_closed()
    t.conn({"verbose": False}).expect_closed()


@case(config=ACCOUNTS + "no_auth_user: d\n")
def acc_no_auth_user_in_account(t):
    anon = t.conn({"verbose": False})
    d = t.conn(login("d"))
    anon.exchange("SUB hello 1\r\nPING\r\n")
    d.exchange(PUB("hello", "hi") + "PING\r\n")
    anon.read(until="MSG hello 1 2\r\nhi\r\n")


@case(config=ACCOUNTS)
def acc_isolation(t):
    a, b, d = t.conn(login("a")), t.conn(login("b")), t.conn(login("d"))
    for c in (b, d):
        c.exchange("SUB secret 1\r\nSUB > 2\r\nPING\r\n")
    a.exchange("SUB secret 1\r\nPING\r\n")
    a.send(PUB("secret", "abc") + PUB("bar.baz", "x", reply="r") + "PING\r\n")
    a.read(until="PONG\r\n")
    # Each of the others sees only its own traffic.
    for c in (b, d):
        c.send(PUB("own", "ok") + "PING\r\n")
        c.read(until="PONG\r\n")


@case(config=ACCOUNTS)
def acc_stream_import_prefix(t):
    a, b = t.conn(login("a")), t.conn(login("b"))
    b.exchange("SUB x.foo.* 1\r\nSUB x.> 2\r\nSUB foo.bar 3\r\nSUB x.foo.q grp 4\r\nPING\r\n")
    a.exchange(PUB("foo.bar", "hi") + PUB("foo.q", "q") + PUB("other", "no") + "PING\r\n")
    b.read(quiet=0.5)
    b.exchange("UNSUB 1\r\nUNSUB 2\r\nUNSUB 4\r\nPING\r\n")
    a.exchange(PUB("foo.bar", "after") + "PING\r\n")
    b.exchange("PING\r\n")


@case(config=ACCOUNTS)
def acc_stream_import_to(t):
    a, c = t.conn(login("a")), t.conn(login("c"))
    c.exchange("SUB renamed 7\r\nSUB foo.bar 8\r\nSUB only.c 9\r\nPING\r\n")
    a.exchange(PUB("foo.bar", "hi") + PUB("foo.baz", "no") + PUB("only.c", "z") + "PING\r\n")
    c.read(quiet=0.5)


def mapped(data):
    data = re.sub(rb"_R_\.[0-9A-Za-z]{6}\.[0-9A-Za-z]{6}", b"_R_.<id>", data)
    return data


@case(config=ACCOUNTS)
def acc_service_import_request_reply(t):
    a = t.conn(login("a"))  # responder without headers: the plain request
    b = t.conn(login("b"))
    a.exchange("SUB req.* 1\r\nPING\r\n")
    b.exchange("SUB _INBOX.1 9\r\nPING\r\n")
    b.send(PUB("local.req", "hi", reply="_INBOX.1") + "PING\r\n")
    b.read(until="PONG\r\n")
    got = a.read_raw(until=b"hi\r\n")
    t.note("responder< %r" % mapped(got))
    reply = re.search(rb"(_R_\.\S+)", got).group(1).decode()
    t.note("reply shape ok: %s" % bool(re.fullmatch(r"_R_\.[0-9A-Za-z]{6}\.[0-9A-Za-z]{6}", reply)))
    a.exchange(PUB(reply, "yes") + PUB(reply, "again") + "PING\r\n")
    b.read(quiet=0.5)
    # The exporter's own subject is not visible to the importer.
    b.exchange(PUB("req.a", "direct", reply="_INBOX.1") + "PING\r\n")
    a.exchange("PING\r\n")


@case(config=ACCOUNTS)
def acc_service_import_request_info_header(t):
    a = t.conn(login("a", headers=True))
    b = t.conn(login("b", headers=True, no_responders=True))
    a.exchange("SUB req.a 1\r\nPING\r\n")
    b.exchange("SUB _INBOX.2 9\r\nPING\r\n")
    b.send("HPUB local.req _INBOX.2 18 20\r\nNATS/1.0\r\nX: 1\r\n\r\nhi\r\nPING\r\n")
    b.read(until="PONG\r\n")
    got = a.read_raw(until=b"hi\r\n")
    head, _, body = got.partition(b"\r\n")
    t.note("responder op: %r" % re.sub(rb" \d+ \d+$", b" <sizes>", mapped(head)))
    hdrs = re.sub(rb'"rtt":\d+', b'"rtt":N', body)
    t.note("responder headers: %r" % hdrs)
    # No responders behind an import: the import counts as interest.
    b.exchange(PUB("local.req", "x", reply="_INBOX.2") + "PING\r\n")


@case(config=ACCOUNTS)
def acc_restricted_export(t):
    # C may import only.c; B may not, and D has no imports at all.
    a, b, c, d = (t.conn(login(u)) for u in "abcd")
    for x in (b, c, d):
        x.exchange("SUB only.c 1\r\nSUB req.a 2\r\nPING\r\n")
    a.exchange(PUB("only.c", "z") + "PING\r\n")
    d.exchange(PUB("local.req", "no", reply="r") + "PING\r\n")
    for x in (b, c, d):
        x.read(quiet=0.5)


def http_json(t, path):
    url = "http://127.0.0.1:%d%s" % (t.server.http_port, path)
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode().strip()


def without_sys(doc):
    """Drops the reference's system account from an /accountz document."""
    doc.pop("system_account", None)
    if "accounts" in doc:
        doc["accounts"] = sorted(a for a in doc["accounts"] if a != "$SYS")
    det = doc.get("account_detail")
    if det:
        for k in ("subscriptions", "sublist_stats", "update_time"):
            det.pop(k, None)
        imports = [i for i in det.get("imports", []) if i.get("account") != "$SYS"]
        if imports:
            det["imports"] = sorted(imports, key=lambda i: i["subject"])
        else:
            det.pop("imports", None)
        if "exports" in det:
            det["exports"] = sorted(det["exports"], key=lambda e: e["subject"])
    doc.pop("server_id", None)
    doc.pop("now", None)
    return doc


@case(config=MON_ACCOUNTS)
def acc_monitor_accountz(t):
    a, b = t.conn(login("a")), t.conn(login("b"))
    settle(t, a, b)
    for path in ["/accountz", "/accountz?acc=A", "/accountz?acc=B", "/accountz?acc=C",
                 "/accountz?acc=D", "/accountz?acc=$G", "/accountz?acc=nope"]:
        status, doc = http_json(t, path)
        if isinstance(doc, dict):
            doc = json.dumps(without_sys(doc), sort_keys=True)
        t.note("%s: %d %s" % (path, status, doc))


@case(config=MON_ACCOUNTS)
def acc_monitor_connz_account(t):
    a, b = t.conn(login("a", name="ca")), t.conn(login("b", name="cb"))
    settle(t, a, b)
    status, doc = http_json(t, "/connz?auth=1")
    for c in sorted(doc["connections"], key=lambda c: c.get("name", "")):
        t.note("conn %s account=%s user=%s" % (c.get("name"), c.get("account"),
                                             c.get("authorized_user")))
