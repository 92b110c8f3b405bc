#!/usr/bin/env python3
"""Runs the conformance suite: every case against natsd and the reference nats-server.

    NATSD_BIN=/path/to/natsd ./run.py                 # everything
    NATSD_BIN=... ./run.py --kind raw --case 'pub_*'  # a subset
    NATSD_BIN=/usr/sbin/nats-server ./run.py          # reference against itself

Prints one row per case and a final `N passed, M failed` line. Exit status:
0 all passed, 1 something failed, 77 the reference is not installed.
"""
import argparse
import concurrent.futures
import fnmatch
import os
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import kinds, servers  # noqa: E402

ALL_KINDS = ("raw", "go", "c", "js")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", default=",".join(ALL_KINDS), help="comma-separated: raw,go,c,js")
    ap.add_argument("--case", action="append", default=[], help="case name glob (repeatable)")
    ap.add_argument("--build-dir", default=os.environ.get("CONFORMANCE_BUILD_DIR"),
                    help="where the Go client, node_modules and gtest output go")
    ap.add_argument("--c-bin", default=os.environ.get("CONFORMANCE_C_BIN"),
                    help="the conformance_c GoogleTest binary")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("CONFORMANCE_JOBS", "2")),
                    help="cases run at once (each runs both servers)")
    ap.add_argument("--list", action="store_true", help="list cases and exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="print observations of every case")
    args = ap.parse_args()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)

    reference = servers.find_reference()
    if not reference:
        print("SKIP: " + servers.INSTALL_HINT, flush=True)
        return 77
    natsd = os.environ.get("NATSD_BIN")
    if not natsd or not os.access(natsd, os.X_OK):
        print("error: NATSD_BIN must name an executable natsd binary (got %r; is natsd built?)" % natsd)
        return 2
    sides = [("reference", reference), ("natsd", natsd)]

    build_dir = args.build_dir or os.path.join(tempfile.gettempdir(), "natsd-conformance-%d" % os.getuid())
    os.makedirs(build_dir, exist_ok=True)
    wanted = [k.strip() for k in args.kind.split(",") if k.strip()]
    for k in wanted:
        if k not in ALL_KINDS:
            print("error: unknown kind %r" % k)
            return 2

    def selected(name):
        return not args.case or any(fnmatch.fnmatchcase(name, p) for p in args.case)

    jobs = []  # (kind, name, callable returning [Result])
    setup_failures = []
    if "raw" in wanted:
        for c in kinds.load_raw_cases():
            if selected(c.name):
                jobs.append(("raw", c.name, lambda c=c: [kinds.run_raw_case(c, sides)]))
    for kind, prepare in (("go", kinds.build_go), ("js", kinds.prepare_js)):
        if kind not in wanted:
            continue
        try:
            prog = prepare(build_dir)
            for spec in prog.list_cases():
                if selected(spec["name"]):
                    jobs.append((kind, spec["name"], lambda p=prog, s=spec: [p.run_case(s, sides)]))
        except Exception as e:
            setup_failures.append((kind, str(e)))
    if "c" in wanted:
        if not args.c_bin or not os.access(args.c_bin, os.X_OK):
            setup_failures.append(("c", "GoogleTest binary not found (--c-bin / CONFORMANCE_C_BIN): %r" % args.c_bin))
        else:
            names = [n for n in kinds.list_gtests(args.c_bin) if selected(n.split(".", 1)[1])]
            gfilter = ":".join(names) if args.case else None
            env = {"NATSD_BIN": natsd, "NATS_SERVER_BIN": reference}
            shards = max(1, min(args.jobs, len(names)))
            if names:
                for i in range(shards):
                    jobs.append(("c", "shard-%d" % i, lambda i=i: kinds.run_gtest_shard(
                        args.c_bin, i, shards, build_dir, env, gfilter, timeout=900)))

    if args.list:
        for kind, name, _ in jobs:
            print("%-4s %s" % (kind, name))
        return 0

    t0 = time.monotonic()
    results = []
    # C shards are long-running; start them first so they overlap the short cases.
    jobs.sort(key=lambda j: j[0] != "c")
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = [pool.submit(fn) for _, _, fn in jobs]
        for f in concurrent.futures.as_completed(futs):
            for r in f.result():
                results.append(r)
                if r.verdict != "PASS" or args.verbose:
                    _print_detail(r)
    elapsed = time.monotonic() - t0

    order = {k: i for i, k in enumerate(ALL_KINDS)}
    results.sort(key=lambda r: (order[r.kind], r.name))
    w = max([len(r.name) for r in results] + [4])
    print()
    print("%-*s  %-6s  %-9s  %-9s  %s" % (w, "case", "client", "reference", "natsd", "result"))
    print("-" * (w + 44))
    for r in results:
        print("%-*s  %-6s  %-9s  %-9s  %s" % (w, r.name, r.kind, r.ref_status, r.natsd_status, r.verdict))
    for kind, msg in setup_failures:
        print("%-*s  %-6s  %-9s  %-9s  %s" % (w, "(setup)", kind, "-", "-", "FAIL"))
        print("  " + msg.replace("\n", "\n  "))
    passed = sum(r.verdict == "PASS" for r in results)
    failed = len(results) - passed + len(setup_failures)
    harness = sum(r.verdict == "HARNESS" for r in results)
    counts = ", ".join("%s %d" % (k, sum(r.kind == k for r in results)) for k in ALL_KINDS if k in wanted)
    print("\n(%s; %.1fs; %s)" % (counts, elapsed, "reference: " + reference + ", natsd: " + natsd))
    if harness:
        print("%d case(s) failed against the reference itself: HARNESS bugs, not natsd bugs" % harness)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and results else 1


def _print_detail(r):
    print("=== %s %s: %s (%.1fs)" % (r.kind, r.name, r.verdict, r.seconds), flush=True)
    if r.verdict == "PASS":
        print("    " + "\n    ".join(r.ref_lines))
    else:
        print("    " + r.explain().replace("\n", "\n    "), flush=True)


def _on_signal(signum, frame):
    servers.stop_all()
    os._exit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
