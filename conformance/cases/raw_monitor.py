"""Raw cases: the HTTP monitoring endpoints (-m), compared by shape and movement.

Both servers run the same workload; each endpoint's JSON is recorded as its
recursive key set (arrays as the union of their elements' keys) plus the
values that must agree: counter deltas, per-connection counters, names,
close reasons, error statuses and texts. Ids, times, versions, ports, memory
and cpu are never recorded.

What natsd does not have is normalised away: the reference's system account
(`system_account`, its `$SYS` account and internal subscriptions) and
`http_req_stats`' keys (the reference counts some endpoints only after their
parameters decode).
"""
import json
import urllib.error
import urllib.request

from harness.raw import case, PUB

MON = ["-m", "{http_port}"]
Q = {"verbose": False}
NAMED = {"verbose": False, "name": "mon", "lang": "python", "version": "1.2.3"}

# Keys of things natsd does not have (see the module docstring).
IGNORED_KEYS = {"system_account"}


def get(t, path):
    url = "http://127.0.0.1:%d%s" % (t.server.http_port, path)
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def keys(v):
    """The recursive key set of a JSON value, as sorted dotted paths."""
    out = set()

    def walk(x, prefix):
        if isinstance(x, dict):
            for k, y in x.items():
                if k in IGNORED_KEYS:
                    continue
                out.add(prefix + k)
                if k != "http_req_stats":
                    walk(y, prefix + k + ".")
        elif isinstance(x, list):
            for y in x:
                walk(y, prefix + "[].")

    walk(v, "")
    return sorted(out)


def get_json(t, path):
    status, ctype, body = get(t, path)
    t.check(status == 200, "%s answered %d: %s" % (path, status, body))
    t.note("%s: %d %s" % (path, status, ctype))
    return json.loads(body)


def note_keys(t, path, doc):
    t.note("%s keys: %s" % (path, " ".join(keys(doc))))


COUNTERS = ["connections", "total_connections", "in_msgs", "out_msgs", "in_bytes",
            "out_bytes", "slow_consumers", "subscriptions"]


@case(flags=MON)
def monitor_varz_counters(t):
    before = get_json(t, "/varz")
    note_keys(t, "/varz", before)
    sub = t.settled_conn(Q)
    sub.exchange("SUB foo 1\r\nSUB bar q 2\r\nPING\r\n")
    pub = t.settled_conn(Q)
    pub.exchange(PUB("foo", "hello") + PUB("foo", "abc") + PUB("bar", "x") + "PING\r\n")
    sub.read(until="x\r\n", record=False)
    after = get_json(t, "/varz")
    for k in COUNTERS:
        t.note("varz %s +%d" % (k, after[k] - before[k]))
    for k in ["proto", "host", "max_connections", "ping_interval", "ping_max", "http_base_path",
              "https_port", "auth_timeout", "max_control_line", "max_payload", "max_pending",
              "tls_timeout", "write_deadline", "routes", "remotes", "leafnodes", "cluster",
              "jetstream"]:
        t.note("varz %s=%s" % (k, json.dumps(after[k])))
    t.note("varz /varz requests: %d" % after["http_req_stats"]["/varz"])
    t.check(after["http_port"] == t.server.http_port, "http_port is the monitoring port")
    t.check(after["port"] == t.port, "port is the client port")
    t.check(after["mem"] > 0, "mem is measured")


@case(flags=MON)
def monitor_connz(t):
    c = t.settled_conn(NAMED)
    c.exchange("SUB foo 1\r\nSUB bar q 2\r\n" + PUB("foo", "hi") + "PING\r\n", until="PONG\r\n")
    gone = t.settled_conn(Q)
    gone.close()
    t.sleep(0.3)
    for path in ["/connz", "/connz?subs=1", "/connz?subs=detail", "/connz?auth=1"]:
        doc = get_json(t, path)
        note_keys(t, path, doc)
        t.note("%s total=%d num=%d offset=%d limit=%d" % (
            path, doc["total"], doc["num_connections"], doc["offset"], doc["limit"]))
        for ci in doc["connections"]:
            t.note("  name=%s lang=%s version=%s ip=%s in=%d/%d out=%d/%d subs=%d pending=%d" % (
                ci.get("name"), ci.get("lang"), ci.get("version"), ci["ip"], ci["in_msgs"],
                ci["in_bytes"], ci["out_msgs"], ci["out_bytes"], ci["subscriptions"],
                ci["pending_bytes"]))
            if "subscriptions_list" in ci:
                t.note("  subs %s" % sorted(ci["subscriptions_list"]))
            if "subscriptions_list_detail" in ci:
                t.note("  detail %s" % sorted(
                    (d["subject"], d.get("qgroup"), d["sid"], d["msgs"])
                    for d in ci["subscriptions_list_detail"]))
    closed = get_json(t, "/connz?state=closed")
    note_keys(t, "/connz?state=closed", closed)
    t.note("closed: %s" % [(ci["reason"], ci["in_msgs"], ci["subscriptions"])
                           for ci in closed["connections"]])
    both = get_json(t, "/connz?state=all&sort=msgs_from&limit=1")
    t.note("all sorted: total=%d first in_msgs=%d" % (both["total"],
                                                      both["connections"][0]["in_msgs"]))
    paged = get_json(t, "/connz?offset=5")
    t.note("offset past end: %d connections" % len(paged["connections"]))
    stop = get_json(t, "/connz?state=closed&sort=stop")
    t.note("closed by stop: %d" % len(stop["connections"]))


@case(flags=MON)
def monitor_subsz(t):
    c = t.settled_conn(Q)
    c.exchange("SUB foo.* 1\r\nSUB foo.bar q 2\r\nSUB baz 3\r\n" + PUB("foo.bar", "x")
               + "PING\r\n", until="PONG\r\n")
    before = get_json(t, "/subsz")
    note_keys(t, "/subsz", before)
    c.exchange("SUB more 4\r\nUNSUB 4\r\nPING\r\n")
    after = get_json(t, "/subsz")
    for k in ["num_subscriptions", "num_inserts", "num_removes"]:
        t.note("subsz %s +%d" % (k, after[k] - before[k]))
    doc = get_json(t, "/subsz?subs=1&test=foo.bar")
    note_keys(t, "/subsz?subs=1&test=foo.bar", doc)
    t.note("matching foo.bar: %s total=%d" % (
        sorted((s["subject"], s.get("qgroup"), s["msgs"]) for s in doc["subscriptions_list"]),
        doc["total"]))


@case(flags=MON)
def monitor_other_endpoints(t):
    for path in ["/routez", "/jsz", "/accountz", "/routez?subs=1"]:
        doc = get_json(t, path)
        note_keys(t, path, doc)
        if path == "/jsz":
            t.note("jsz %s" % json.dumps({k: v for k, v in doc.items()
                                          if k not in ("server_id", "now")}, sort_keys=True))
        if path == "/accountz":
            t.note("accounts include $G: %s" % ("$G" in doc["accounts"]))
        if path.startswith("/routez"):
            t.note("routes %d %s" % (doc["num_routes"], doc["routes"]))
    status, ctype, body = get(t, "/healthz")
    t.note("/healthz: %d %s %s" % (status, ctype, body))
    status, ctype, body = get(t, "/")
    t.note("/: %d %s" % (status, ctype))


@case(flags=MON)
def monitor_bad_requests(t):
    for path in ["/connz?sort=foo", "/connz?sort=stop", "/connz?sort=reason&state=all",
                 "/connz?state=x", "/connz?limit=x", "/connz?offset=1.5", "/connz?cid=-1",
                 "/connz?subs=maybe", "/connz?auth=2", "/subsz?test=foo.*", "/subsz?subs=x",
                 "/healthz?js-enabled=x", "/healthz?js-enabled-only=nope", "/jsz?accounts=x",
                 "/routez?subs=x", "/accountz?acc=nope", "/nope", "/varz/extra"]:
        status, ctype, body = get(t, path)
        t.note("%s: %d %s %s" % (path, status, ctype, body.strip()))
