"""Raw cases: subscriptions, delivery, wildcards, queues, UNSUB, headers, echo."""
from harness.raw import case, PUB, HPUB

Q = {"verbose": False}
H = {"verbose": False, "headers": True, "no_responders": True}


def pubsub(t, sub_ops, pub_ops, sub_connect=Q, pub_connect=Q):
    """Subscriber sends sub_ops, publisher sends pub_ops; both PING; records what the subscriber got."""
    s = t.conn(sub_connect, name="sub")
    s.exchange(sub_ops + "PING\r\n")
    p = t.conn(pub_connect, name="pub")
    p.exchange(pub_ops + "PING\r\n")
    s.exchange("PING\r\n")
    return s, p


@case()
def pub_sub_basic(t):
    pubsub(t, "SUB foo 1\r\n", "PUB foo 5\r\nhello\r\n")


@case()
def pub_sub_reply_subject(t):
    pubsub(t, "SUB foo 1\r\n", "PUB foo bar.baz 5\r\nhello\r\n")


@case()
def pub_sub_empty_payload(t):
    pubsub(t, "SUB foo 1\r\n", "PUB foo 0\r\n\r\n")


@case()
def pub_sub_binary_payload(t):
    pubsub(t, "SUB foo 1\r\n", PUB("foo", "\x00\r\n\xff\x01"))


@case()
def pub_sub_payload_with_crlf(t):
    pubsub(t, "SUB foo 1\r\n", PUB("foo", "PING\r\nPUB x"))


@case()
def pub_no_subscribers(t):
    c = t.conn(Q)
    c.exchange("PUB nobody 2\r\nhi\r\nPING\r\n")


@case()
def sub_same_connection_echo(t):
    c = t.conn(Q)
    c.exchange("SUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n")


@case()
def echo_false(t):
    c = t.conn({"verbose": False, "echo": False})
    c.exchange("SUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n")
    p = t.conn(Q)
    p.exchange("PUB foo 2\r\nyo\r\nPING\r\n")
    c.exchange("PING\r\n")


@case()
def sub_two_sids_same_subject(t):
    # Subscriptions on the same subject sit in a Go map in the reference, so
    # their delivery order is not defined: compare the set of frames.
    s = t.conn(Q, name="sub")
    s.exchange("SUB foo 1\r\nSUB foo 2\r\nPING\r\n")
    p = t.conn(Q, name="pub")
    p.exchange("PUB foo 2\r\nhi\r\nPING\r\n")
    s.send("PING\r\n")
    got = s.read_raw("PONG\r\n")
    frames = sorted(f for f in got.removesuffix(b"PONG\r\n").split(b"MSG ") if f)
    t.note("frames: %r" % frames)
    t.check(len(frames) == 2, "both subscriptions get the message")


@case()
def wildcard_star(t):
    pubsub(t, "SUB foo.* 1\r\n", "PUB foo.bar 1\r\na\r\nPUB foo.bar.baz 1\r\nb\r\nPUB foo 1\r\nc\r\n")


@case()
def wildcard_gt(t):
    pubsub(t, "SUB foo.> 1\r\n", "PUB foo.bar 1\r\na\r\nPUB foo.bar.baz 1\r\nb\r\nPUB foo 1\r\nc\r\n")


@case()
def wildcard_star_middle(t):
    pubsub(t, "SUB a.*.c 1\r\n", "PUB a.b.c 1\r\n1\r\nPUB a.x.c 1\r\n2\r\nPUB a.b.d 1\r\n3\r\nPUB a.b.c.d 1\r\n4\r\n")


@case()
def wildcard_full_gt(t):
    pubsub(t, "SUB > 1\r\n", "PUB a 1\r\n1\r\nPUB a.b.c 1\r\n2\r\n")


@case()
def wildcard_overlap_one_msg_per_sub(t):
    pubsub(t, "SUB foo.bar 1\r\nSUB foo.* 2\r\nSUB foo.> 3\r\nSUB > 4\r\n", "PUB foo.bar 1\r\nx\r\n")


@case()
def wildcard_star_star(t):
    pubsub(t, "SUB *.* 1\r\n", "PUB a.b 1\r\n1\r\nPUB a 1\r\n2\r\nPUB a.b.c 1\r\n3\r\n")


@case()
def subject_tokens_case_sensitive(t):
    pubsub(t, "SUB Foo 1\r\n", "PUB foo 1\r\n1\r\nPUB Foo 1\r\n2\r\nPUB FOO 1\r\n3\r\n")


@case()
def subject_long_many_tokens(t):
    subj = ".".join("t%d" % i for i in range(64))
    pubsub(t, "SUB %s 1\r\nSUB t0.> 2\r\n" % subj, "PUB %s 1\r\nx\r\n" % subj)


@case()
def queue_single_member(t):
    pubsub(t, "SUB foo grp 1\r\n", "PUB foo 1\r\na\r\nPUB foo 1\r\nb\r\n")


@case()
def queue_group_plus_plain_sub(t):
    pubsub(t, "SUB foo grp 1\r\nSUB foo 2\r\n", "PUB foo 1\r\na\r\n")


@case()
def queue_exactly_once_per_group(t):
    """Three members in each of two groups on three connections: each message goes to one member per group."""
    subs = []
    for i in range(3):
        s = t.conn(Q, name="s%d" % i)
        s.exchange("SUB q g1 %d\r\nSUB q g2 %d\r\nPING\r\n" % (10 + i, 20 + i), record=False)
        subs.append(s)
    n = 300
    p = t.conn(Q, name="pub")
    p.send("".join("PUB q 3\r\n%03d\r\n" % i for i in range(n)) + "PING\r\n")
    p.read_raw("PONG\r\n")
    got = {"g1": [], "g2": []}
    per_member = []
    for s in subs:
        data = s.exchange("PING\r\n", record=False, quiet=None, timeout=10)
        msgs = [l for l in data.split(b"\r\n") if l.startswith(b"MSG ")]
        for grp, base in (("g1", 10), ("g2", 20)):
            mine = [m for m in msgs if m.split()[2] in [str(base + i).encode() for i in range(3)]]
            got[grp] += mine
            per_member.append(len(mine))
    for grp in ("g1", "g2"):
        t.note("%s received %d of %d" % (grp, len(got[grp]), n))
    # Even spread: every member got a fair share (at least a sixth of the messages per group).
    t.note("every member got >= %d: %s" % (n // 6, all(c >= n // 6 for c in per_member)))


@case()
def queue_unsub_member_moves_traffic(t):
    a = t.conn(Q, name="a")
    a.exchange("SUB foo g 1\r\nPING\r\n", record=False)
    b = t.conn(Q, name="b")
    b.exchange("SUB foo g 1\r\nPING\r\n", record=False)
    a.exchange("UNSUB 1\r\nPING\r\n")
    p = t.conn(Q, name="p")
    p.exchange("PUB foo 1\r\nx\r\nPUB foo 1\r\ny\r\nPING\r\n")
    b.exchange("PING\r\n")
    a.exchange("PING\r\n")


@case()
def unsub_stops_delivery(t):
    pubsub(t, "SUB foo 1\r\nUNSUB 1\r\n", "PUB foo 1\r\nx\r\n")


@case()
def unsub_unknown_sid(t):
    c = t.conn(Q)
    c.exchange("UNSUB 99\r\nPING\r\n")


@case()
def unsub_max_auto(t):
    pubsub(t, "SUB foo 1\r\nUNSUB 1 2\r\n", "".join("PUB foo 1\r\n%d\r\n" % i for i in range(5)))


@case()
def unsub_max_after_some_delivered(t):
    s = t.conn(Q, name="s")
    s.exchange("SUB foo 1\r\nPING\r\n")
    p = t.conn(Q, name="p")
    p.exchange("PUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\nPING\r\n")
    s.read(until="c\r\n")
    s.exchange("UNSUB 1 2\r\nPING\r\n")   # already delivered 3 >= 2: the sub goes away
    p.exchange("PUB foo 1\r\nd\r\nPING\r\n")
    s.exchange("PING\r\n")


@case()
def unsub_max_zero(t):
    pubsub(t, "SUB foo 1\r\nUNSUB 1 0\r\n", "PUB foo 1\r\na\r\nPUB foo 1\r\nb\r\n")


@case()
def sub_reuse_sid_after_unsub(t):
    pubsub(t, "SUB foo 1\r\nUNSUB 1\r\nSUB bar 1\r\n", "PUB foo 1\r\na\r\nPUB bar 1\r\nb\r\n")


@case()
def sub_duplicate_sid(t):
    pubsub(t, "SUB foo 1\r\nSUB bar 1\r\n", "PUB foo 1\r\na\r\nPUB bar 1\r\nb\r\n")


@case()
def request_reply_inbox(t):
    r = t.conn(Q, name="responder")
    r.exchange("SUB svc 1\r\nPING\r\n")
    q = t.conn(Q, name="requester")
    q.exchange("SUB _INBOX.abc 9\r\nUNSUB 9 1\r\nPUB svc _INBOX.abc 4\r\nping\r\nPING\r\n")
    r.read(until="ping\r\n")
    r.exchange("PUB _INBOX.abc 4\r\npong\r\nPING\r\n")
    q.read(until="pong\r\n")
    r.exchange("PUB _INBOX.abc 5\r\nlate!\r\nPING\r\n")
    q.exchange("PING\r\n")


@case()
def hpub_to_header_subscriber(t):
    pubsub(t, "SUB foo 1\r\n", HPUB("foo", "NATS/1.0\r\nA: 1\r\nB: 2", "hi"),
           sub_connect=H, pub_connect=H)


@case()
def hpub_with_reply(t):
    pubsub(t, "SUB foo 1\r\n", HPUB("foo", "NATS/1.0\r\nX: y", "hi", reply="rep.ly"),
           sub_connect=H, pub_connect=H)


@case()
def hpub_to_non_header_subscriber(t):
    pubsub(t, "SUB foo 1\r\n", HPUB("foo", "NATS/1.0\r\nX: y", "hi"),
           sub_connect=Q, pub_connect=H)


@case()
def hpub_headers_only(t):
    pubsub(t, "SUB foo 1\r\n", "HPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n", sub_connect=H, pub_connect=H)


@case()
def hpub_without_headers_connect(t):
    c = t.conn(Q)
    c.send("HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n")
    c.expect_closed()


@case()
def hpub_header_size_larger_than_total(t):
    c = t.conn(H)
    c.send("HPUB foo 20 10\r\nNATS/1.0\r\n\r\n\r\n")
    c.expect_closed()


@case()
def pub_to_header_subscriber_plain(t):
    pubsub(t, "SUB foo 1\r\n", "PUB foo 2\r\nhi\r\n", sub_connect=H, pub_connect=Q)


@case()
def no_responders_status(t):
    c = t.conn(H)
    c.exchange("SUB _INBOX.x 1\r\nPUB nobody _INBOX.x 2\r\nhi\r\nPING\r\n")


@case()
def no_responders_with_hpub(t):
    c = t.conn(H)
    c.exchange("SUB _INBOX.x 1\r\nHPUB nobody _INBOX.x 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPING\r\n")


@case()
def no_responders_not_requested(t):
    c = t.conn({"verbose": False, "headers": True})
    c.exchange("SUB _INBOX.x 1\r\nPUB nobody _INBOX.x 2\r\nhi\r\nPING\r\n")


@case()
def no_responders_requires_headers(t):
    c = t.conn()
    c.send('CONNECT {"verbose":false,"no_responders":true}\r\n')
    c.expect_closed()


@case()
def no_responders_no_reply_sub(t):
    c = t.conn(H)
    c.exchange("PUB nobody _INBOX.y 2\r\nhi\r\nPING\r\n")


@case()
def many_messages_in_one_write(t):
    s = t.conn(Q, name="s")
    s.exchange("SUB bulk 1\r\nPING\r\n")
    p = t.conn(Q, name="p")
    n = 2000
    p.exchange("".join("PUB bulk 4\r\n%04d\r\n" % i for i in range(n)) + "PING\r\n")
    data = s.read_raw("\r\n%04d\r\n" % (n - 1), timeout=10)
    expected = "".join("MSG bulk 1 4\r\n%04d\r\n" % i for i in range(n)).encode()
    t.note("in order and complete: %s" % (data == expected))


@case()
def pub_split_across_writes(t):
    s = t.conn(Q, name="s")
    s.exchange("SUB foo 1\r\nPING\r\n")
    p = t.conn(Q, name="p")
    p.send("PUB foo reply 11\r\nhello world\r\nPING\r\n", chunks=3)
    p.read(until="PONG\r\n")
    s.exchange("PING\r\n")


@case()
def hpub_split_byte_by_byte(t):
    s = t.conn(H, name="s")
    s.exchange("SUB foo 1\r\nPING\r\n")
    p = t.conn(H, name="p")
    p.send(HPUB("foo", "NATS/1.0\r\nX: y", "hi") + "PING\r\n", chunks=1, gap=0.005)
    p.read(until="PONG\r\n")
    s.exchange("PING\r\n")


@case()
def large_payload_max(t):
    s = t.conn(Q, name="s")
    s.exchange("SUB big 1\r\nPING\r\n")
    p = t.conn(Q, name="p")
    body = bytes(range(256)) * 4096  # exactly 1 MiB (the default max_payload)
    p.exchange(b"PUB big %d\r\n" % len(body) + body + b"\r\nPING\r\n")
    s.send("PING\r\n")
    data = s.read_raw(b"PONG\r\n")
    t.note("delivered intact: %s" % (data == b"MSG big 1 %d\r\n" % len(body) + body + b"\r\nPONG\r\n"))


@case(config="max_payload: 100\n")
def payload_at_configured_max(t):
    pubsub(t, "SUB foo 1\r\n", "PUB foo 100\r\n" + "x" * 100 + "\r\n")
