"""The four client kinds. Each turns its cases into Jobs; a Job yields Results.

raw  - Python socket cases (cases/raw_*.py), driven here.
go   - one nats.go program (go/client) with a subcommand per case.
js   - one nats.js program (js/client.js) with a subcommand per case.
c    - a GoogleTest binary (c/) whose tests start both servers themselves;
       its per-test verdicts are read back from gtest's JSON output.

Program clients (go, js) speak a tiny line protocol on stdout:
  `<anything>`      an observation line (must be equal for both servers)
  `FAIL: <msg>`     the case's own expectation failed
  `@restart`, `@stop`, `@start`, `@signal <NAME>` (e.g. `@signal USR2`)
                    ask the harness to act on the server; the harness
                    answers `ok` on the client's stdin when done.
  `@spare`          start a second server like the one under test (same
                    binary, flags and config); answers `ok <port>`.
"""
import glob
import hashlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from . import observe, raw, servers

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Result:
    """The verdict of one case: what each side saw and whether they agree."""

    def __init__(self, kind, name):
        self.kind, self.name = kind, name
        self.ref_error = self.natsd_error = None
        self.ref_lines, self.natsd_lines = [], []
        self.detail = ""
        self.seconds = 0.0

    @property
    def ref_status(self):
        return "error" if self.ref_error else "ok"

    @property
    def natsd_status(self):
        if self.natsd_error:
            return "error"
        return "ok" if self.natsd_lines == self.ref_lines else "differs"

    @property
    def verdict(self):
        if self.ref_error:
            return "HARNESS"
        if self.natsd_error or self.natsd_lines != self.ref_lines:
            return "FAIL"
        return "PASS"

    def explain(self):
        out = []
        if self.ref_error:
            out.append("reference failed (harness bug): " + self.ref_error)
        if self.natsd_error:
            out.append("natsd failed: " + self.natsd_error)
        if self.ref_lines != self.natsd_lines:
            out.append(observe.diff(self.ref_lines, self.natsd_lines))
        if self.detail:
            out.append(self.detail)
        return "\n".join(out)


def _both_sides(run_side, sides):
    """Runs run_side(label, binary) for both servers concurrently; returns {label: (lines, error)}."""
    out = {}

    def go(label, binary):
        try:
            out[label] = run_side(label, binary)
        except Exception as e:  # a crash in the harness itself is reported, not raised
            out[label] = ([], "%s: %s" % (type(e).__name__, e))

    threads = [threading.Thread(target=go, args=s) for s in sides]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _fill(result, out):
    result.ref_lines, result.ref_error = out["reference"]
    result.natsd_lines, result.natsd_error = out["natsd"]


# ---------------------------------------------------------------- raw

def load_raw_cases():
    raw.CASES.clear()
    for path in sorted(glob.glob(os.path.join(HERE, "cases", "raw_*.py"))):
        mod = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location("conformance_cases_" + mod, path)
        m = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(m)
    names = [c.name for c in raw.CASES]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SystemExit("duplicate raw case names: %s" % ", ".join(sorted(dup)))
    return list(raw.CASES)


def run_raw_case(c, sides):
    res = Result("raw", c.name)
    t0 = time.monotonic()

    def side(label, binary):
        srv = servers.Server(binary, c.flags, c.config, label=label)
        ctx = None
        timer = None
        try:
            srv.start()
            ctx = raw.Ctx(srv, observe.normalise_bytes)
            # Watchdog: killing the server unblocks every socket the case holds.
            timed_out = []
            timer = threading.Timer(c.timeout, lambda: (timed_out.append(1), srv.stop()))
            timer.start()
            try:
                c.fn(ctx)
                err = None
            except raw.CheckFailed as e:
                err = "check failed: %s" % e
            except Exception as e:
                err = "%s: %s" % (type(e).__name__, e)
            if timed_out:
                err = "timed out after %ss" % c.timeout
            return ctx.lines, err
        finally:
            if timer:
                timer.cancel()
            if ctx:
                ctx.close_all()
            srv.cleanup()

    _fill(res, _both_sides(side, sides))
    res.seconds = time.monotonic() - t0
    return res


# ---------------------------------------------------------------- go / js programs

class Program:
    """A client program that lists its cases and runs one per invocation."""

    def __init__(self, kind, argv, env=None):
        self.kind, self.argv, self.env = kind, argv, env or {}

    def list_cases(self):
        out = subprocess.run(self.argv + ["list"], capture_output=True, text=True, timeout=60,
                             env={**os.environ, **self.env})
        if out.returncode != 0:
            raise RuntimeError("%s list failed: %s" % (self.kind, out.stderr[-2000:]))
        return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]

    def run_case(self, spec, sides):
        res = Result(self.kind, spec["name"])
        t0 = time.monotonic()
        timeout = spec.get("timeout", 30)

        def side(label, binary):
            srv = servers.Server(binary, spec.get("flags", []), spec.get("config"), label=label)
            try:
                srv.start()
                return self._drive(spec["name"], srv, timeout)
            finally:
                srv.cleanup()

        _fill(res, _both_sides(side, sides))
        res.seconds = time.monotonic() - t0
        return res

    def _drive(self, name, srv, timeout):
        url = "nats://127.0.0.1:%d" % srv.port
        proc = subprocess.Popen(self.argv + ["run", name, url], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, preexec_fn=servers._die_with_parent,
                                env={**os.environ, **self.env, "NATS_URL": url})
        timed_out = []

        def kill():
            timed_out.append(1)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.start()
        stderr = []
        err_thread = threading.Thread(target=lambda: stderr.append(proc.stderr.read()))
        err_thread.start()
        lines, fails, spares = [], [], []
        try:
            for line in proc.stdout:
                line = line.rstrip("\n")
                if line.startswith("@"):
                    op = line[1:].strip()
                    reply = "ok"
                    if op == "spare":
                        spare = servers.Server(srv.binary, srv.args, srv.config,
                                               label=srv.label + "-spare")
                        spares.append(spare)
                        spare.start()
                        reply = "ok %d" % spare.port
                    elif op == "restart":
                        srv.restart()
                    elif op == "stop":
                        srv.stop()
                    elif op == "start":
                        srv.start(port=srv.port)
                    elif op.startswith("signal "):
                        srv.send_signal(getattr(signal, "SIG" + op.split(None, 1)[1]))
                    else:
                        fails.append("unknown control %r" % line)
                    proc.stdin.write(reply + "\n")
                    proc.stdin.flush()
                elif line.startswith("FAIL:"):
                    fails.append(line[5:].strip())
                else:
                    lines.append(line)
            rc = proc.wait(timeout=10)
        finally:
            timer.cancel()
            if proc.poll() is None:
                kill()
                proc.wait()
            err_thread.join(timeout=5)
            for spare in spares:
                spare.cleanup()
        err = None
        if timed_out:
            err = "timed out after %ss" % timeout
        elif fails:
            err = "check failed: " + "; ".join(fails)
        elif rc != 0:
            err = "exit status %d: %s" % (rc, "".join(stderr)[-1500:].strip())
        return lines, err


def build_go(build_dir):
    """Builds the Go client in GOPATH mode against Debian's nats.go."""
    out = os.path.join(build_dir, "go-client")
    env = {**os.environ, "GO111MODULE": "off",
           "GOPATH": os.path.join(build_dir, "gopath") + ":/usr/share/gocode",
           "GOCACHE": os.path.join(build_dir, "gocache"), "GOFLAGS": ""}
    r = subprocess.run(["go", "build", "-o", out, "."], cwd=os.path.join(HERE, "go", "client"),
                       env=env, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("go build failed:\n" + r.stderr)
    return Program("go", [out])


def prepare_js(build_dir):
    """Installs the pinned npm packages into the build dir (skipped when already current)."""
    src = os.path.join(HERE, "js")
    dst = os.path.join(build_dir, "js")
    os.makedirs(dst, exist_ok=True)
    lock = open(os.path.join(src, "package-lock.json"), "rb").read()
    digest = hashlib.sha256(lock + open(os.path.join(src, "package.json"), "rb").read()).hexdigest()
    marker = os.path.join(dst, "node_modules", ".conformance-lock")
    if not (os.path.exists(marker) and open(marker).read() == digest):
        for f in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(src, f), dst)
        r = subprocess.run(["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"], cwd=dst,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError("npm ci failed:\n" + r.stdout + r.stderr)
        with open(marker, "w") as f:
            f.write(digest)
    return Program("js", ["node", os.path.join(src, "client.js")],
                   env={"NODE_PATH": os.path.join(dst, "node_modules")})


# ---------------------------------------------------------------- c (GoogleTest)

def list_gtests(binary):
    out = subprocess.run([binary, "--gtest_list_tests"], capture_output=True, text=True, timeout=60)
    names, suite = [], None
    for line in out.stdout.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            suite = line.strip()
        else:
            names.append(suite + line.strip().split()[0])
    return names


def run_gtest_shard(binary, index, total, build_dir, sides_env, case_filter, timeout):
    """Runs one shard of the C cases; returns Results read from gtest's JSON output."""
    out_json = os.path.join(build_dir, "c-shard-%d.json" % index)
    if os.path.exists(out_json):
        os.remove(out_json)
    env = {**os.environ, **sides_env, "GTEST_TOTAL_SHARDS": str(total), "GTEST_SHARD_INDEX": str(index)}
    argv = [binary, "--gtest_output=json:" + out_json]
    if case_filter:
        argv.append("--gtest_filter=" + case_filter)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                           start_new_session=True, preexec_fn=servers._die_with_parent)
        log = p.stdout + p.stderr
    except subprocess.TimeoutExpired as e:
        log = "shard timed out after %ss" % timeout
    results = []
    try:
        data = json.load(open(out_json))
    except (OSError, ValueError):
        r = Result("c", "shard-%d" % index)
        r.ref_error = "no gtest output: " + log[-3000:]
        return [r]
    for suite in data.get("testsuites", []):
        for t in suite.get("testsuite", []):
            r = Result("c", t["name"])
            r.seconds = float(str(t.get("time", "0")).rstrip("s") or 0)
            ref, nd = t.get("reference"), t.get("natsd")
            if ref is None:
                r.ref_error = "test did not report (see gtest log)"
            else:
                r.ref_error = None if ref == "ok" else ref
                r.natsd_error = None if nd == "ok" else (nd or "no natsd result")
                r.ref_lines = t.get("reference_obs", "").split("\n")
                r.natsd_lines = t.get("natsd_obs", "").split("\n")
            if t.get("failures") and not (r.ref_error or r.natsd_error or r.ref_lines != r.natsd_lines):
                r.natsd_error = "; ".join(f.get("failure", "")[:500] for f in t["failures"])
            results.append(r)
    return results
