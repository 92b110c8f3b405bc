"""Starting and stopping the two servers a case compares.

A Server owns one process (in its own process group, so the whole group is
killed on stop) listening on 127.0.0.1 and a private temp dir holding its
config file and log. Every Server ever started is registered so that
`stop_all()` (called from atexit and signal handlers) leaves nothing behind.
"""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import ctypes

from harness import certs, nkeys

_LEVEL = re.compile(r"\[(INF|WRN|ERR|FTL|DBG|TRC)\] ")

_live = set()
_live_lock = threading.Lock()

INSTALL_HINT = "reference nats-server not found: apt-get install nats-server (or set NATS_SERVER_BIN)"


def find_reference():
    """Path of the reference nats-server, or None."""
    env = os.environ.get("NATS_SERVER_BIN")
    if env:
        return env if os.access(env, os.X_OK) else None
    found = shutil.which("nats-server")
    if found:
        return found
    for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"):
        if os.access(p, os.X_OK):
            return p
    return None


def _die_with_parent():
    # PR_SET_PDEATHSIG: if the harness is killed (e.g. a CTest timeout), so is the server.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:
        pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(Exception):
    pass


class Server:
    """One server process. `args` are extra flags; `config` is config-file text."""

    def __init__(self, binary, args=(), config=None, label="server"):
        self.binary = binary
        self.args = list(args)
        self.config = config
        self.label = label
        self.dir = tempfile.mkdtemp(prefix="natsconf-%s-" % label)
        self.port = None
        # A second free port, substituted for "{http_port}" in flags/config
        # (monitoring cases); kept across restarts.
        self.http_port = None
        self.proc = None
        self.log_path = os.path.join(self.dir, "server.log")

    def command(self, port):
        cmd = [self.binary, "-a", "127.0.0.1", "-p", str(port)]
        if self.config is not None:
            conf = os.path.join(self.dir, "server.conf")
            with open(conf, "w") as f:
                f.write(self._expand(self.config))
            cmd += ["-c", conf]
        return cmd + [self._expand(a) for a in self.args]

    def _expand(self, text):
        return (text.replace("{dir}", self.dir).replace("{http_port}", str(self.http_port))
                .replace("{nkey_user}", nkeys.PUBLIC).replace("{certs}", certs.DIR))

    def start(self, port=None, timeout=10.0):
        """Starts the server (on `port`, or a free one) and waits until it accepts."""
        fixed = port is not None
        deadline = time.monotonic() + timeout
        while True:
            p = port if fixed else free_port()
            if not fixed or self.http_port is None:
                self.http_port = free_port()
            self._spawn(p)
            if self._wait_ready(deadline):
                self.port = p
                return self
            exited = self.proc is not None and self.proc.poll() is not None
            self.stop()
            # Only a lost race for the port is worth retrying; a bad flag or config is not.
            if exited and "address already in use" not in self.log_tail(3).lower():
                raise ServerError("%s exited at start: %s\n%s" % (self.label, " ".join(self.command(p)), self.log_tail(8)))
            if time.monotonic() > deadline:
                raise ServerError("%s did not start: %s\n%s" % (self.label, " ".join(self.command(p)), self.log_tail()))
            time.sleep(0.1)

    def _spawn(self, port):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(port), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True, cwd=self.dir,
                                     preexec_fn=_die_with_parent)
        log.close()
        self._pending_port = port
        with _live_lock:
            _live.add(self)

    def _wait_ready(self, deadline):
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self._pending_port), timeout=0.5) as s:
                    s.settimeout(1.0)
                    # The server speaks first: wait for the INFO line so we know it is serving.
                    data = b""
                    while b"\r\n" not in data:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    if data.startswith(b"INFO"):
                        # Close our side and wait for the server to close too, so the probe
                        # no longer counts against max_connections when the case starts.
                        s.shutdown(socket.SHUT_WR)
                        try:
                            while s.recv(4096):
                                pass
                        except OSError:
                            pass
                        time.sleep(0.02)
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self, sig=signal.SIGKILL):
        """Kills the process group and waits for it (bounded)."""
        proc = self.proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
        self.proc = None
        with _live_lock:
            _live.discard(self)

    def send_signal(self, sig):
        """Sends `sig` to the server process (e.g. SIGUSR2: lame duck mode)."""
        if self.proc is not None:
            self.proc.send_signal(sig)

    RELOAD_DONE = ("Reloaded server configuration", "Failed to reload server configuration")

    def reload(self, config, timeout=5.0):
        """Rewrites the config file with `config` and sends SIGHUP; returns once the
        server has logged that the reload succeeded or failed (bounded)."""
        before = self._count_log(self.RELOAD_DONE)
        with open(os.path.join(self.dir, "server.conf"), "w") as f:
            f.write(self._expand(config))
        self.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while self._count_log(self.RELOAD_DONE) == before:
            if time.monotonic() > deadline:
                raise ServerError("%s did not log the reload:\n%s" % (self.label, self.log_tail()))
            time.sleep(0.02)
        # The server logs before its I/O threads have applied the new rules to
        # live connections; give them a moment.
        time.sleep(0.1)

    def log_lines(self, contains):
        """Log lines containing `contains`, without the pid and timestamp prefix
        ("[ERR] Failed to reload ..."), in order."""
        out = []
        for line in self._read_log():
            m = _LEVEL.search(line)
            if m and contains in line:
                out.append(line[m.start():])
        return out

    def _read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []

    def _count_log(self, needles):
        return sum(1 for line in self._read_log() if any(n in line for n in needles))

    def restart(self, down_for=0.0):
        """Stops the server and starts it again on the same port."""
        port = self.port
        self.stop()
        if down_for:
            time.sleep(down_for)
        self.start(port=port)

    def check_config(self, config, name="check.conf", timeout=10.0):
        """Runs `<binary> -c <file> -t` on `config` (written as `name` in this server's
        dir, where relative includes resolve); returns (exit code, output)."""
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(self._expand(config))
        p = subprocess.run([self.binary, "-c", name, "-t"], cwd=self.dir, capture_output=True,
                           text=True, errors="replace", timeout=timeout)
        return p.returncode, p.stdout + p.stderr

    def log_tail(self, n=20):
        return "\n".join(self._read_log()[-n:])

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def stop_all():
    with _live_lock:
        servers = list(_live)
    for s in servers:
        try:
            s.stop()
        except Exception:
            pass


atexit.register(stop_all)
