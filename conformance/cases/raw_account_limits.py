"""Raw cases: an account's `limits` block (max_connections,
max_subscriptions, max_payload) enforced on that account's clients, next to
the server-wide limits.

As in nats-server 2.9: max_connections counts the account's connections
(the one over is refused with -ERR and closed), max_subscriptions and
max_payload apply to each connection of the account, combined with the
server's own (the smaller wins), and a client whose limit differs from the
server's max_payload is told in a second INFO before its first PONG.
"""
from harness.raw import case, PUB

LIMITS = """
accounts {
  A: {
    users: [ {user: a, password: a}, {user: a2, password: a2}, {user: a3, password: a3} ]
    limits: { max_connections: 2, max_subscriptions: 2, max_payload: 8 }
  }
  B: { users: [ {user: b, password: b} ] }
  U: {
    users: [ {user: u, password: u} ]
    limits: { max_conn: -1, max_subs: -1, max_pay: -1, max_leafs: -1 }
  }
}
"""


def login(user, **extra):
    return dict({"verbose": False, "user": user, "pass": user}, **extra)


@case(config=LIMITS)
def acc_limit_max_connections(t):
    a1 = t.conn(login("a"))
    a1.exchange("PING\r\n")
    a2 = t.conn(login("a2", verbose=True))
    a2.exchange("PING\r\n")
    # The third of the account is refused, whichever of its users it is.
    a3 = t.conn(login("a3", verbose=True))
    a3.send("PING\r\n")
    a3.expect_closed()
    # Other accounts are not counted.
    b = t.conn(login("b"))
    b.exchange("PING\r\n")
    # A closed connection frees its place.
    a1.close()
    t.sleep(0.3)
    again = t.conn(login("a3"))
    again.exchange("PING\r\n")


@case(config=LIMITS)
def acc_limit_max_subscriptions(t):
    a = t.conn(login("a", verbose=True))
    a.exchange("PING\r\n")
    a.exchange("SUB x 1\r\nSUB y 2\r\nPING\r\n")
    a.exchange("SUB z 3\r\nPING\r\n")
    # Per connection: another connection of the account has its own two.
    a2 = t.conn(login("a2"))
    a2.exchange("SUB x 1\r\nSUB y 2\r\nPING\r\n")
    # The refused subscription receives nothing; the others do.
    b = t.conn(login("b"))
    b.exchange("SUB z 1\r\nSUB a 2\r\nSUB b 3\r\nPING\r\n")
    a.exchange(PUB("z", "no") + PUB("x", "yes") + "PING\r\n")
    a.exchange("UNSUB 1\r\nSUB z 3\r\nPING\r\n")


@case(config=LIMITS)
def acc_limit_max_payload(t):
    a = t.conn(login("a", protocol=1))
    a.exchange("PING\r\n")
    a.exchange("SUB p 1\r\n" + PUB("p", "12345678") + "PING\r\n")
    a.send(PUB("p", "123456789"))
    a.expect_closed()
    # Other accounts keep the server's max_payload.
    b = t.conn(login("b", protocol=1))
    b.exchange(PUB("p", "123456789") + "PING\r\n")


@case(config=LIMITS)
def acc_limit_info_protocol_zero(t):
    # Without protocol 1 the client gets no second INFO.
    a = t.conn(login("a", protocol=0))
    a.exchange("PING\r\n")
    a.exchange("PING\r\n")
    a.send(PUB("p", "123456789"))
    a.expect_closed()


@case(config=LIMITS)
def acc_limit_unlimited(t):
    u = t.conn(login("u", protocol=1))
    u.exchange("PING\r\n")
    u.exchange("".join("SUB s.%d %d\r\n" % (i, i) for i in range(50)) + "PING\r\n")
    u.exchange(PUB("p", "x" * 5000) + "PING\r\n")


@case(config="max_payload: 100\n" + LIMITS.replace("max_payload: 8", "max_payload: 4096"))
def acc_limit_server_max_payload_smaller(t):
    # The server's 100 is below the account's 4096: 100 applies, and no
    # second INFO (the client's limit is the server's).
    a = t.conn(login("a", protocol=1))
    a.exchange("PING\r\n")
    a.send(PUB("p", "x" * 101))
    a.expect_closed()


@case(config="max_subscriptions: 1\n" + LIMITS)
def acc_limit_server_max_subscriptions_smaller(t):
    a = t.conn(login("a"))
    a.exchange("SUB x 1\r\nSUB y 2\r\nPING\r\n")
    u = t.conn(login("u"))
    u.exchange("SUB x 1\r\nSUB y 2\r\nPING\r\n")


ZERO = """
accounts {
  Z: {
    users: [ {user: z, password: z} ]
    limits: { max_subscriptions: 0 }
  }
  P: {
    users: [ {user: p, password: p} ]
    limits: { max_payload: 0 }
  }
  C: {
    users: [ {user: c, password: c} ]
    limits: { max_connections: 0 }
  }
}
"""


@case(config=ZERO)
def acc_limit_zero(t):
    # No PING after the CONNECT: the reference answers the CONNECT's
    # subscription check asynchronously, racing a PONG.
    z = t.conn(login("z", protocol=1))
    z.expect_closed()
    p = t.conn(login("p", protocol=1))
    p.exchange("PING\r\n", until="} \r\n")
    p.exchange(PUB("q", "") + "PING\r\n")
    p.send(PUB("q", "x"))
    p.expect_closed()
    c = t.conn(login("c", protocol=1))
    c.send("PING\r\n")
    c.expect_closed()
