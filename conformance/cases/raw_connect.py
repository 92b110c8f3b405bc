"""Raw cases: the greeting, CONNECT options, verbose/pedantic, PING/PONG, auth."""
from harness.raw import case

Q = {"verbose": False}          # quiet CONNECT
H = {"verbose": False, "headers": True, "no_responders": True}


@case()
def info_default(t):
    t.conn()  # records the normalised INFO: key set and every non-volatile value


@case(config="max_payload: 2048\n")
def info_max_payload_config(t):
    t.conn()


@case(flags=["--user", "u", "--pass", "p"])
def info_auth_required(t):
    t.conn()


@case(flags=["--auth", "tok"])
def info_auth_token_required(t):
    t.conn()


@case(flags=["-n", "conformance-name"])
def info_server_name_flag(t):
    c = t.conn(record_info=False)
    c.send("CONNECT {}\r\nPING\r\n")
    info = c.read(until="PONG\r\n", record=False)
    t.note("pong seen: %s" % (b"PONG" in info))


@case()
def info_second_connection(t):
    t.conn()
    t.conn(record_info=True)


@case()
def connect_empty_verbose_default(t):
    c = t.conn()
    c.exchange("CONNECT {}\r\nPING\r\n")


@case()
def connect_verbose_ok_per_op(t):
    c = t.conn()
    c.exchange('CONNECT {"verbose":true}\r\nSUB foo 1\r\nPUB foo 2\r\nhi\r\nUNSUB 1\r\nPING\r\n')


@case()
def connect_verbose_false(t):
    c = t.conn(Q)
    c.exchange("SUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n")


@case()
def connect_full_options(t):
    c = t.conn({"verbose": False, "pedantic": False, "tls_required": False, "name": "full",
                "lang": "python", "version": "1.0", "protocol": 1, "echo": True,
                "headers": True, "no_responders": True})
    c.exchange("PING\r\n")


@case()
def connect_unknown_fields_ignored(t):
    c = t.conn({"verbose": False, "frobnicate": 42, "nested": {"a": [1, 2]}})
    c.exchange("PING\r\n")


@case()
def connect_protocol_0(t):
    c = t.conn({"verbose": False, "protocol": 0})
    c.exchange("PING\r\n")


@case()
def connect_protocol_2_invalid(t):
    c = t.conn()
    c.send('CONNECT {"verbose":false,"protocol":2}\r\n')
    c.expect_closed()


@case()
def connect_protocol_negative(t):
    c = t.conn()
    c.send('CONNECT {"verbose":false,"protocol":-1}\r\n')
    c.expect_closed()


@case()
def connect_malformed_json(t):
    c = t.conn()
    c.send("CONNECT {not json\r\n")
    c.expect_closed()


@case()
def connect_lowercase_ops(t):
    c = t.conn()
    c.exchange('connect {"verbose":false}\r\nsub foo 1\r\npub foo 2\r\nhi\r\nping\r\n')


@case()
def connect_twice(t):
    c = t.conn()
    c.exchange('CONNECT {"verbose":true}\r\nCONNECT {"verbose":false}\r\nPING\r\n')


@case()
def ping_before_connect(t):
    c = t.conn()
    c.exchange("PING\r\n")


@case()
def pub_before_connect(t):
    c = t.conn()
    c.exchange("SUB foo 1\r\nPUB foo 2\r\nhi\r\nPING\r\n")


@case()
def ping_pong_many(t):
    c = t.conn(Q)
    c.exchange("PING\r\n" * 5, count=5, quiet=None)


@case()
def ping_pong_split_bytes(t):
    c = t.conn(Q)
    c.send("PING\r\n", chunks=1)
    c.read(until="PONG\r\n")


@case()
def pong_unsolicited(t):
    c = t.conn(Q)
    c.exchange("PONG\r\nPING\r\n")


@case()
def ping_with_spaces_and_tabs(t):
    c = t.conn(Q)
    c.exchange("PING  \r\nPING\t\r\nPING\r\n", count=3, quiet=None)


@case()
def ping_lf_only(t):
    c = t.conn(Q)
    c.exchange("PING\n")


@case(config='ping_interval: "200ms"\nping_max: 2\n', timeout=20)
def server_ping_answered(t):
    c = t.conn(Q)
    c.read(until="PING\r\n", quiet=None, timeout=3)
    c.exchange("PONG\r\nPING\r\n")


@case(config='ping_interval: "200ms"\nping_max: 2\n', timeout=20)
def stale_connection(t):
    c = t.conn(Q)
    data = c.read(quiet=None, timeout=5, record=False)  # never answer the server's PINGs
    t.check(b"Stale Connection" in data, "expected a Stale Connection error")
    t.note(data.replace(b"PING\r\n", b"").decode())
    t.note("pings before close: %d" % data.count(b"PING\r\n"))
    t.note("closed: %s" % c.closed)


@case(flags=["--user", "u", "--pass", "p"])
def auth_user_pass_ok(t):
    c = t.conn({"verbose": False, "user": "u", "pass": "p"})
    c.exchange("PING\r\n")


@case(flags=["--user", "u", "--pass", "p"])
def auth_user_pass_wrong(t):
    c = t.conn({"verbose": False, "user": "u", "pass": "x"})
    c.expect_closed()


@case(flags=["--user", "u", "--pass", "p"])
def auth_user_pass_missing(t):
    c = t.conn(Q)
    c.expect_closed()


@case(flags=["--auth", "s3cr3t"])
def auth_token_ok(t):
    c = t.conn({"verbose": False, "auth_token": "s3cr3t"})
    c.exchange("PING\r\n")


@case(flags=["--auth", "s3cr3t"])
def auth_token_wrong(t):
    c = t.conn({"verbose": False, "auth_token": "nope"})
    c.expect_closed()


@case(flags=["--auth", "s3cr3t"])
def auth_ping_before_connect(t):
    c = t.conn()
    c.send("PING\r\n")
    c.expect_closed()


@case(config="authorization { user: u, password: p, timeout: 0.5 }\n")
def auth_timeout(t):
    c = t.conn()
    c.expect_closed(timeout=4)


@case()
def no_auth_timeout_without_auth(t):
    c = t.conn()
    t.sleep(1.0)
    c.exchange('CONNECT {"verbose":false}\r\nPING\r\n')
