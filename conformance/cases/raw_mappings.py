"""Raw cases: subject mappings (`mappings`, top level and per account). A
message published on a mapped subject must arrive where the reference sends
it: literal and wildcard mappings, every transform function (partitions
included, so natsd hashes as nats-server does), weights of 100%, the
publisher's permissions checked on the mapped subject, account mappings and
their /accountz view, and the reference's errors for bad mappings.

Weighted splits below 100% are random and are tested in natsd's unit tests
(tests/server/subject_mappings_test.cc), not here."""
import json
import urllib.request

from harness.raw import case, PUB

Q = {"verbose": False}

MAPPINGS = """
mappings {
  "plain": "mapped.plain"
  "order.*.*": "order.$2.$1"
  "fn.*.*": "fn.{{wildcard(2)}}.{{ wildcard(1) }}"
  "part.*.*": "part.{{partition(10,1,2)}}.{{wildcard(1)}}.{{wildcard(2)}}"
  "split.*": "split.{{split(1,-)}}"
  "sfl.*": "sfl.{{splitFromLeft(1,3)}}"
  "sfr.*": "sfr.{{splitFromRight(1,3)}}"
  "slfl.*": "slfl.{{sliceFromLeft(1,2)}}"
  "slfr.*": "slfr.{{sliceFromRight(1,2)}}"
  "rest.>": "moved.>"
  "weighted": [ {destination: "w.one", weight: 100%} ]
  "keep": [ {destination: "keep.other", weight: 0} ]
}
"""


def run(t, subjects):
    """Subscribes to everything, publishes one message per subject, and records
    the subjects the messages arrived on."""
    sub = t.conn(Q)
    sub.exchange("SUB > 1\r\nPING\r\n")
    pub = t.conn(Q)
    pub.exchange("".join(PUB(s, "x") for s in subjects) + "PING\r\n")
    sub.read(until=b"MSG", count=len(subjects))


@case(config=MAPPINGS)
def map_literal_wildcards_and_rest(t):
    run(t, ["plain", "order.a.b", "fn.a.b", "rest.x.y.z", "unmapped.a"])


@case(config=MAPPINGS)
def map_partitions_hash_as_the_reference(t):
    run(t, ["part.%s.%d" % (w, i) for w in ("alpha", "beta", "gamma") for i in range(6)])


@case(config=MAPPINGS)
def map_split_and_slice(t):
    run(t, ["split.a-b--c-", "split.abc", "sfl.abcdef", "sfl.ab", "sfr.abcdef", "sfr.ab",
            "slfl.abcde", "slfl.a", "slfr.abcde", "slfr.a"])


@case(config=MAPPINGS)
def map_full_weights(t):
    run(t, ["weighted", "keep", "keep", "keep"])


@case(config=MAPPINGS + """
authorization { users: [ {user: u, password: p, permissions: {publish: ["mapped.plain", "order.>"]}} ] }
""")
def map_permissions_see_the_mapped_subject(t):
    sub = t.conn(dict(Q, user="u", **{"pass": "p"}))
    sub.exchange("SUB > 1\r\nPING\r\n")
    pub = t.conn(dict(Q, user="u", **{"pass": "p"}))
    # "plain" is not allowed, but it is published as "mapped.plain", which is;
    # "mapped.plain" itself is not mapped; "fn.a.b" maps to "fn.b.a", not allowed.
    pub.exchange(PUB("plain", "1") + PUB("mapped.plain", "2") + PUB("fn.a.b", "3") + "PING\r\n")
    sub.read(until=b"MSG", count=2)


@case(config=MAPPINGS)
def map_request_reply_through_mapping(t):
    svc = t.conn(Q)
    svc.exchange("SUB mapped.plain 1\r\nPING\r\n")
    req = t.conn(dict(Q, headers=True, no_responders=True))
    req.exchange("SUB inbox.1 9\r\n" + PUB("plain", "ask", reply="inbox.1") + "PING\r\n")
    svc.read(until=b"ask\r\n")
    svc.exchange(PUB("inbox.1", "answer") + "PING\r\n")
    req.read(until=b"answer\r\n")


ACCOUNTS = """
http: {http_port}
accounts {
  A: {
    users: [ {user: a, password: a} ]
    mappings: { "in.*": "a.$1", "split": [ {destination: "s.1", weight: 30}, {destination: "s.2", weight: "20%"} ] }
  }
  B: { users: [ {user: b, password: b} ] }
}
"""


def login(user):
    return dict(Q, user=user, **{"pass": user})


@case(config=ACCOUNTS)
def map_account_mappings_stay_in_the_account(t):
    a_sub, b_sub = t.conn(login("a")), t.conn(login("b"))
    for c in (a_sub, b_sub):
        c.exchange("SUB > 1\r\nPING\r\n")
    t.conn(login("a")).exchange(PUB("in.x", "a") + "PING\r\n")
    t.conn(login("b")).exchange(PUB("in.y", "b") + "PING\r\n")
    a_sub.read(until=b"MSG")
    b_sub.read(until=b"MSG")


@case(config=ACCOUNTS)
def map_accountz_lists_mappings(t):
    url = "http://127.0.0.1:%d/accountz?acc=A" % t.server.http_port
    with urllib.request.urlopen(url, timeout=5) as r:
        doc = json.loads(r.read().decode())
    t.note(json.dumps(doc["account_detail"].get("mappings"), sort_keys=True))


@case()
def map_config_errors(t):
    for text in [
        'mappings { "foo": "bar.*" }',
        'mappings { "foo.*": "bar" }',
        'mappings { "foo.*": "bar.$2" }',
        'mappings { "foo.*": "bar.{{wildcard(2)}}" }',
        'mappings { "foo.*": "bar.{{unknown(1)}}.$1" }',
        'mappings { "foo.*": "bar.{{partition(x,1)}}.$1" }',
        'mappings { "foo.*": "bar.{{split(1)}}" }',
        'mappings { "foo.>": "bar" }',
        'mappings { "foo..bar": "baz" }',
        'mappings { "foo": [ {destination: "a", weight: 101} ] }',
        'mappings { "foo": [ {destination: "a", weight: "x%"} ] }',
        'mappings { "foo.*": "bar.{{partition(5)}}.$1" }',
        'mappings { "foo": [ {destination: "a", weight: 10, color: red} ] }',
        'mappings { "foo": 5 }',
        'accounts { A: { mappings: { "x.*": "y" } } }',
    ]:
        t.check_config(text + "\n")
