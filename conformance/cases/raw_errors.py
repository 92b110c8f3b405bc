"""Raw cases: every core -ERR, limits, malformed and oversized input."""
from harness.raw import case, PUB

Q = {"verbose": False}
P = {"verbose": False, "pedantic": True}


@case()
def err_unknown_protocol_op(t):
    c = t.conn(Q)
    c.send("FOO bar\r\n")
    c.expect_closed()


@case()
def err_unknown_op_after_valid(t):
    c = t.conn(Q)
    c.send("PING\r\nXPUB foo 1\r\n")
    c.expect_closed()


@case()
def err_unknown_op_before_connect(t):
    c = t.conn()
    c.send("HELLO\r\n")
    c.expect_closed()


@case()
def err_garbage_binary(t):
    c = t.conn(Q)
    c.send(bytes(range(1, 40)))
    c.expect_closed()


@case()
def err_max_control_line_default(t):
    c = t.conn(Q)
    c.send("PUB " + "a" * 5000 + " 1\r\nx\r\n")
    c.expect_closed()


@case()
def err_max_control_line_no_crlf(t):
    c = t.conn(Q)
    c.send("SUB " + "a" * 5000)
    c.expect_closed()


@case(config="max_control_line: 64\n")
def err_max_control_line_configured(t):
    c = t.conn(Q)
    c.exchange("SUB " + "a" * 40 + " 1\r\nPING\r\n")
    c.send("SUB " + "b" * 70 + " 2\r\n")
    c.expect_closed()


@case(config="max_control_line: 64\n")
def max_control_line_not_for_payload(t):
    c = t.conn(Q)
    c.exchange("SUB foo 1\r\n" + PUB("foo", "p" * 200) + "PING\r\n")


@case(config="max_payload: 8\n")
def err_max_payload(t):
    c = t.conn(Q)
    c.exchange(PUB("foo", "12345678") + "PING\r\n")
    c.send(PUB("foo", "123456789"))
    c.expect_closed()


@case(config="max_payload: 8\n")
def err_max_payload_hpub(t):
    c = t.conn({"verbose": False, "headers": True})
    c.send("HPUB foo 12 20\r\nNATS/1.0\r\n\r\n12345678\r\n")
    c.expect_closed()


@case()
def err_max_payload_default_plus_one(t):
    c = t.conn(Q)
    c.send("PUB foo %d\r\n" % (1024 * 1024 + 1))  # the header alone is enough to be rejected
    c.expect_closed()


@case()
def err_pub_negative_size(t):
    c = t.conn(Q)
    c.send("PUB foo -1\r\n")
    c.expect_closed()


@case()
def err_pub_size_not_number(t):
    c = t.conn(Q)
    c.send("PUB foo abc\r\nxyz\r\n")
    c.expect_closed()


@case()
def err_pub_missing_size(t):
    c = t.conn(Q)
    c.send("PUB foo\r\n")
    c.expect_closed()


@case()
def err_pub_too_many_args(t):
    c = t.conn(Q)
    c.send("PUB foo bar baz 1\r\nx\r\n")
    c.expect_closed()


@case()
def err_pub_payload_longer_than_size(t):
    c = t.conn(Q)
    c.send("PUB foo 2\r\nhello\r\n")
    c.expect_closed()


@case()
def err_sub_missing_sid(t):
    c = t.conn(Q)
    c.send("SUB foo\r\n")
    c.expect_closed()


@case()
def err_sub_too_many_args(t):
    c = t.conn(Q)
    c.send("SUB foo q 1 extra\r\n")
    c.expect_closed()


@case()
def err_unsub_no_args(t):
    c = t.conn(Q)
    c.send("UNSUB\r\n")
    c.expect_closed()


@case()
def err_unsub_bad_max(t):
    c = t.conn(Q)
    c.send("UNSUB 1 x\r\n")
    c.expect_closed()


@case()
def err_hpub_bad_sizes(t):
    c = t.conn({"verbose": False, "headers": True})
    c.send("HPUB foo x y\r\n")
    c.expect_closed()


@case()
def pedantic_invalid_publish_subject_wildcard(t):
    c = t.conn(P)
    c.exchange("SUB foo.* 1\r\n" + PUB("foo.*", "x") + PUB("foo.>", "y") + "PING\r\n")


@case()
def pedantic_invalid_publish_subject_empty_token(t):
    c = t.conn(P)
    c.exchange(PUB("foo..bar", "x") + PUB(".foo", "x") + "PING\r\n")


@case()
def pedantic_invalid_subject_sub(t):
    c = t.conn(P)
    c.exchange("SUB foo..bar 1\r\nSUB foo.>.bar 2\r\nSUB * 3\r\nPING\r\n")


@case()
def pedantic_verbose_error_then_ok(t):
    c = t.conn({"verbose": True, "pedantic": True})
    c.exchange(PUB("a.*", "x") + PUB("a.b", "x") + "PING\r\n")


@case()
def non_pedantic_wildcard_publish(t):
    c = t.conn(Q)
    c.exchange("SUB foo.* 1\r\nSUB foo.bar 2\r\n" + PUB("foo.*", "x") + "PING\r\n")


@case()
def non_pedantic_invalid_sub_subject(t):
    c = t.conn(Q)
    c.exchange("SUB foo..bar 1\r\nSUB foo.>.x 2\r\nPING\r\n")


@case(config="max_connections: 1\n")
def err_max_connections(t):
    a = t.settled_conn(Q, name="a")
    b = t.conn(None, name="b", record_info=True)
    b.expect_closed()
    a.exchange("PING\r\n")


@case(config="max_connections: 2\n")
def max_connections_freed_on_close(t):
    t.settled_conn(Q, name="a")
    b = t.settled_conn(Q, name="b")
    b.close()
    t.sleep(0.3)
    c = t.conn(Q, name="c")
    c.exchange("PING\r\n")


@case(config="max_subscriptions: 2\n")
def err_max_subscriptions(t):
    c = t.conn(Q)
    c.exchange("SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n")
    c.exchange(PUB("a", "1") + PUB("c", "3") + "PING\r\n")


@case(config="max_subscriptions: 1\n")
def max_subscriptions_after_unsub(t):
    c = t.conn(Q)
    c.exchange("SUB a 1\r\nUNSUB 1\r\nSUB b 2\r\n" + PUB("b", "x") + "PING\r\n")


@case(config="max_subscriptions: 1\n")
def max_subscriptions_per_connection(t):
    a = t.conn(Q, name="a")
    a.exchange("SUB a 1\r\nPING\r\n")
    b = t.conn(Q, name="b")
    b.exchange("SUB b 1\r\nPING\r\n")


@case(config="max_pending: 65536\nmax_payload: 8192\n", timeout=40)
def slow_consumer_max_pending(t):
    s = t.conn(Q, name="s", rcvbuf=4096)
    s.exchange("SUB flood 1\r\nPING\r\n")
    p = t.conn(Q, name="p")
    p.sock.settimeout(30)  # the server stalls a fast producer; that is not a failure
    chunk = PUB("flood", "z" * 8000) * 32
    for _ in range(16):  # ~4 MB that the subscriber does not read
        p.send(chunk)
    p.send("PING\r\n")
    p.read_raw("PONG\r\n", timeout=20)
    data = s.read(quiet=None, timeout=15, record=False)  # drain what was buffered, until close
    t.check(s.closed, "slow consumer should be disconnected")
    t.note("subscriber closed: %s" % s.closed)
    t.note("subscriber saw an -ERR: %s" % (b"-ERR" in data))


@case()
def split_control_line_every_byte(t):
    c = t.conn(None)
    c.send('CONNECT {"verbose":false}\r\nSUB foo 1\r\n' + PUB("foo", "abc") + "PING\r\n", chunks=1, gap=0.002)
    c.read(until="PONG\r\n")


@case()
def split_inside_crlf(t):
    c = t.conn(Q)
    c.send("SUB foo 1\r")
    t.sleep(0.1)
    c.send("\nPUB foo 3\r")
    t.sleep(0.1)
    c.send("\nabc\r")
    t.sleep(0.1)
    c.send("\nPING\r\n")
    c.read(until="PONG\r\n")


@case()
def payload_split_large(t):
    c = t.conn(Q)
    body = "0123456789" * 10000
    c.send("SUB foo 1\r\n" + PUB("foo", body) + "PING\r\n", chunks=7919, gap=0.001)
    data = c.read_raw(b"PONG\r\n", timeout=10)
    t.note("echoed intact: %s" % (data == ("MSG foo 1 %d\r\n%s\r\nPONG\r\n" % (len(body), body)).encode()))


@case()
def client_closes_mid_payload(t):
    a = t.conn(Q, name="a")
    a.send("PUB foo 100\r\nonly-part")
    a.close()
    b = t.conn(Q, name="b")
    b.exchange("PING\r\n")


@case()
def extra_whitespace_in_args(t):
    c = t.conn(Q)
    c.exchange("SUB   foo    1\r\nPUB  foo   2\r\nhi\r\nPING\r\n")


@case()
def tabs_as_separators(t):
    c = t.conn(Q)
    c.exchange("SUB\tfoo\t1\r\nPUB\tfoo\t2\r\nhi\r\nPING\r\n")


@case()
def ping_then_quit_silently(t):
    c = t.conn(Q)
    c.exchange("PING\r\n")
    c.close()
    d = t.conn(Q, record_info=False)
    d.exchange("PING\r\n")


@case()
def ok_and_err_are_not_client_ops(t):
    c = t.conn(Q)
    c.send("+OK\r\n")
    c.expect_closed()


@case()
def msg_is_not_client_op(t):
    c = t.conn(Q)
    c.send("MSG foo 1 2\r\nhi\r\n")
    c.expect_closed()


@case()
def info_from_client_ignored(t):
    c = t.conn(Q)
    c.exchange('INFO {"foo":1}\r\nPING\r\n')
