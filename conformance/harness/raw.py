"""Raw-protocol cases: byte exchanges over plain sockets.

A case is a function decorated with @case. It receives a Ctx and talks to the
server through Conn objects; everything a Conn receives is recorded (with INFO
normalised) into the observation, together with whether the server closed the
connection. The same function runs against both servers and the two
observations must be equal.

    @case(flags=["--max_payload", "8"])
    def payload_too_big(t):
        c = t.conn(connect={"verbose": False})
        c.send("PUB foo 9\\r\\n123456789\\r\\n")
        c.read()                      # until quiet or closed
"""
import json
import re
import socket
import time

CASES = []


class Case:
    def __init__(self, name, fn, flags, config, timeout, tags):
        self.name, self.fn, self.flags, self.config = name, fn, list(flags), config
        self.timeout, self.tags = timeout, tags


def case(flags=(), config=None, timeout=20, name=None, tags=()):
    """Registers a raw case; `flags` are extra server flags, `config` config-file text."""
    def deco(fn):
        CASES.append(Case(name or fn.__name__, fn, flags, config, timeout, tags))
        return fn
    return deco


class CheckFailed(Exception):
    pass


class Ctx:
    """What a case sees: the server under test and the observation being built."""

    def __init__(self, server, normalise):
        self.server = server
        self.lines = []
        self._normalise = normalise
        self._conns = []
        self._n = 0

    @property
    def port(self):
        return self.server.port

    def note(self, text):
        """Records a line in the observation (it must be the same for both servers)."""
        self.lines.append(str(text))

    def check(self, cond, msg):
        """A case's own expectation; failing it against the reference is a harness bug."""
        if not cond:
            raise CheckFailed(msg)

    def conn(self, connect=None, name=None, read_info=True, record_info=None, rcvbuf=None):
        """Opens a connection; reads INFO; sends CONNECT with `connect` merged over defaults.

        connect=None sends no CONNECT. INFO is recorded on the first connection
        only (unless record_info says otherwise) to keep observations short.
        """
        self._n += 1
        c = Conn(self, name or "c%d" % self._n, rcvbuf)
        self._conns.append(c)
        if read_info:
            if record_info is None:
                record_info = self._n == 1
            c.read(until=b"\r\n", quiet=None, record=record_info)
        if connect is not None:
            c.send("CONNECT " + json.dumps(connect) + "\r\n")
        return c

    def settled_conn(self, connect, name=None, timeout=3.0):
        """Opens a connection that the server accepts (CONNECT answered by PONG), retrying
        while an earlier connection (e.g. the harness's readiness probe) is still being
        reaped. Records the INFO like conn() and then the PONG."""
        deadline = time.monotonic() + timeout
        while True:
            n, lines = self._n, len(self.lines)
            c = self.conn(connect, name=name)
            c.send("PING\r\n")
            data = c.read(until=b"PONG\r\n", quiet=None, timeout=2, record=False)
            if data.endswith(b"PONG\r\n") or time.monotonic() > deadline:
                self.note("%s< %s" % (c.name, self._normalise(data)))
                return c
            c.close()
            self._conns.remove(c)
            self._n, self.lines[lines:] = n, []
            time.sleep(0.05)

    def sleep(self, seconds):
        time.sleep(seconds)

    def restart(self):
        self.server.restart()

    def reload(self, config):
        """Rewrites the server's config file and sends SIGHUP (config reload)."""
        self.server.reload(config)

    def log(self, contains):
        """Records the server's log lines containing `contains` (level and message;
        a client's address and id are replaced by <client>, as they differ)."""
        for line in self.server.log_lines(contains):
            self.note("log: " + re.sub(r"\d+\.\d+\.\d+\.\d+:\d+ - cid:\d+", "<client>", line))

    def check_config(self, config, name="check.conf"):
        """Records how the server's config check (`-c <name> -t`) judges `config`: its
        exit code and output, with the program name and the server's dir normalised.
        Blank lines are dropped: nats-server ends a list of errors with one."""
        code, out = self.server.check_config(config, name)
        self.note("exit %d" % code)
        for line in filter(None, out.splitlines()):
            line = re.sub(r"^(nats-server|natsd): ", "<server>: ", line)
            self.note("out: " + line.replace(self.server.dir, "{dir}"))

    def close_all(self):
        for c in self._conns:
            c.close()


class Conn:
    def __init__(self, ctx, name, rcvbuf=None):
        self.ctx = ctx
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connect, so the TCP window stays small (slow-consumer cases)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5)
        self.sock.connect(("127.0.0.1", ctx.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.closed = False
        self.buf = b""

    def send(self, data, chunks=None, gap=0.02):
        """Sends `data` (str or bytes). chunks=n splits it into n-byte writes `gap` s apart."""
        if isinstance(data, str):
            data = data.encode("latin-1")
        try:
            if not chunks:
                self.sock.sendall(data)
            else:
                for i in range(0, len(data), chunks):
                    self.sock.sendall(data[i:i + chunks])
                    time.sleep(gap)
        except OSError as e:
            # A server that already closed the connection is an observation, not a crash.
            self.ctx.note("%s: send failed (%s)" % (self.name, type(e).__name__))

    def read(self, until=None, quiet=0.25, timeout=5.0, record=True, count=1):
        """Reads until `until` has been seen `count` times, or the connection is quiet
        for `quiet` seconds, or closed, or `timeout`. Records what arrived and closed-or-not.
        Returns the bytes read."""
        if isinstance(until, str):
            until = until.encode("latin-1")
        data = self.buf
        self.buf = b""
        deadline = time.monotonic() + timeout
        while not self.closed:
            if until is not None and data.count(until) >= count:
                # Keep anything after the last delimiter for the next read.
                idx = -1
                for _ in range(count):
                    idx = data.index(until, idx + 1)
                end = idx + len(until)
                data, self.buf = data[:end], data[end:]
                break
            now = time.monotonic()
            if now >= deadline:
                break
            wait = deadline - now if quiet is None else min(quiet, deadline - now)
            self.sock.settimeout(max(wait, 0.001))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                if quiet is not None:
                    break
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                break
            data += chunk
        if record:
            self.ctx.note("%s< %s" % (self.name, self.ctx._normalise(data)))
            if self.closed:
                self.ctx.note("%s: closed" % self.name)
        return data

    def read_raw(self, until, timeout=5.0, count=1):
        """Like read() but records nothing (for bulk traffic the case summarises itself)."""
        return self.read(until=until, quiet=None, timeout=timeout, record=False, count=count)

    def exchange(self, data, until="PONG\r\n", **kw):
        """send() then read(until)."""
        self.send(data)
        return self.read(until=until, **kw)

    def expect_closed(self, timeout=1.5):
        """Records whether the server closes the connection within `timeout`."""
        data = self.read(quiet=None, timeout=timeout, record=False)
        if data:
            self.ctx.note("%s< %s" % (self.name, self.ctx._normalise(data)))
        self.ctx.note("%s: %s" % (self.name, "closed" if self.closed else "open"))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def PUB(subject, payload, reply=None):
    """A PUB frame with the size computed (str in, str out; latin-1 for binary)."""
    r = " %s" % reply if reply else ""
    return "PUB %s%s %d\r\n%s\r\n" % (subject, r, len(payload), payload)


def HPUB(subject, headers, payload, reply=None):
    """An HPUB frame; `headers` is the header block without the trailing blank line,
    e.g. "NATS/1.0\\r\\nX: y"."""
    hdr = headers + "\r\n\r\n"
    r = " %s" % reply if reply else ""
    return "HPUB %s%s %d %d\r\n%s%s\r\n" % (subject, r, len(hdr), len(hdr) + len(payload), hdr, payload)
