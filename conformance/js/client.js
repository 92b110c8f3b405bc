// The conformance nats.js (v2) client: a registry of cases, each a few lines.
//
//   node client.js list              one JSON object per case (name, flags, config, timeout)
//   node client.js run <case> <url>  runs one case; stdout is the observation
//
// Print only what must be identical for natsd and nats-server (no ids, ports,
// inboxes, timings). `FAIL: ...` is a failed expectation of the case itself;
// `@restart` / `@stop` / `@start` ask the harness to act and wait for `ok`.
"use strict";
const nats = require("nats");
const readline = require("readline");

const sc = nats.StringCodec();
const cases = [];
function reg(name, run, opts = {}) {
  cases.push({ name, run, flags: opts.flags, config: opts.config, timeout: opts.timeout || 30 });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class T {
  constructor(url) {
    this.url = url;
    this.conns = [];
    this.lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  }
  obs(...parts) { process.stdout.write(parts.join(" ") + "\n"); }
  fail(msg) { throw new CaseFailed(msg); }
  async connect(opts = {}) {
    const nc = await nats.connect({ servers: this.url, timeout: 5000, ...opts });
    this.conns.push(nc);
    return nc;
  }
  async control(op) {
    process.stdout.write("@" + op + "\n");
    const { value } = await this.lines.next();
    if (value !== "ok") this.fail(`control ${op}: ${value}`);
  }
}
class CaseFailed extends Error {}

// errText: a stable description of an error (its code, else its message).
const errText = (e) => (e ? e.code || e.message : "none");
async function attempt(fn) { try { await fn(); return "ok"; } catch (e) { return errText(e); } }

// Collects up to n messages from a subscription within ms.
async function take(sub, n, ms = 3000) {
  const out = [];
  const timer = setTimeout(() => sub.unsubscribe(), ms);
  for await (const m of sub) {
    out.push(`${m.subject}:${sc.decode(m.data)}`);
    if (out.length >= n) break;
  }
  clearTimeout(timer);
  return out;
}

require("./cases")(reg, { T, sc, sleep, take, errText, attempt, nats });

async function main() {
  const [cmd, name, url] = process.argv.slice(2);
  if (cmd === "list") {
    for (const c of cases.sort((a, b) => a.name.localeCompare(b.name))) {
      process.stdout.write(JSON.stringify({ name: c.name, flags: c.flags, config: c.config, timeout: c.timeout }) + "\n");
    }
    return 0;
  }
  const c = cases.find((x) => x.name === name);
  if (cmd !== "run" || !c) {
    process.stderr.write("usage: client.js list | run <case> <url>\n");
    return 2;
  }
  const t = new T(url);
  try {
    await c.run(t);
  } catch (e) {
    process.stdout.write("FAIL: " + (e instanceof CaseFailed ? e.message : e.stack) + "\n");
  }
  for (const nc of t.conns) await nc.close().catch(() => {});
  return 0;
}
main().then((rc) => process.exit(rc));
