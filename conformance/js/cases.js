// nats.js conformance cases. reg(name, async (t) => {...}, {flags, config, timeout}).
"use strict";
module.exports = (reg, { sc, sleep, take, errText, attempt, nats }) => {
  const { headers, Empty } = nats;

  reg("connect_info", async (t) => {
    const nc = await t.connect();
    const i = nc.info;
    t.obs("proto", i.proto, "headers", i.headers, "max_payload", i.max_payload, "auth", !!i.auth_required);
    t.obs("keys", Object.keys(i).sort().join(","));
  });
  reg("connect_max_payload_config", async (t) => {
    const nc = await t.connect();
    t.obs("max_payload", nc.info.max_payload);
    t.obs("publish over max:", await attempt(async () => nc.publish("x", new Uint8Array(2049))));
  }, { config: "max_payload: 2048\n" });
  reg("pub_sub", async (t) => {
    const nc = await t.connect();
    const sub = nc.subscribe("foo");
    nc.publish("foo", sc.encode("a"));
    nc.publish("bar", sc.encode("no"));
    nc.publish("foo", sc.encode("b"));
    t.obs((await take(sub, 2)).join(" "));
  });
  reg("pub_sub_callback_count", async (t) => {
    const nc = await t.connect();
    let n = 0;
    nc.subscribe("cb", { callback: () => { n++; } });
    await nc.flush();
    const pub = await t.connect();
    for (let i = 0; i < 1000; i++) pub.publish("cb", sc.encode(String(i)));
    await pub.flush();
    for (let i = 0; i < 100 && n < 1000; i++) await sleep(20);
    t.obs("received", n);
  });
  reg("wildcard_star", async (t) => {
    const nc = await t.connect();
    const sub = nc.subscribe("a.*");
    for (const s of ["a", "a.b", "a.b.c", "a.c"]) nc.publish(s, sc.encode("x"));
    t.obs((await take(sub, 2)).join(" "));
  });
  reg("wildcard_gt", async (t) => {
    const nc = await t.connect();
    const sub = nc.subscribe("a.>");
    for (const s of ["a", "a.b", "a.b.c", "b"]) nc.publish(s, sc.encode("x"));
    t.obs((await take(sub, 2)).join(" "));
  });
  reg("queue_exactly_once_even", async (t) => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3; i++) {
      const nc = await t.connect();
      nc.subscribe("jobs", { queue: "q", callback: () => { counts[i]++; } });
      await nc.flush();
    }
    const pub = await t.connect();
    for (let i = 0; i < 300; i++) pub.publish("jobs", Empty);
    await pub.flush();
    for (let i = 0; i < 100 && counts.reduce((a, b) => a + b) < 300; i++) await sleep(20);
    await sleep(200);
    t.obs("total", counts.reduce((a, b) => a + b), "fair", counts.every((c) => c >= 40));
  });
  reg("request_reply_mux", async (t) => {
    const nc = await t.connect();
    nc.subscribe("svc", { callback: (_e, m) => m.respond(sc.encode("re:" + sc.decode(m.data))) });
    for (const x of ["1", "2"]) t.obs(sc.decode((await nc.request("svc", sc.encode(x), { timeout: 3000 })).data));
  });
  reg("request_reply_no_mux", async (t) => {
    const nc = await t.connect();
    nc.subscribe("svc2", { callback: (_e, m) => m.respond(sc.encode("nomux")) });
    await nc.flush();
    const r = await nc.request("svc2", Empty, { timeout: 3000, noMux: true });
    t.obs(sc.decode(r.data));
  });
  reg("request_many_parallel", async (t) => {
    const nc = await t.connect();
    nc.subscribe("par", { callback: (_e, m) => m.respond(m.data) });
    await nc.flush();
    const rs = await Promise.all([...Array(40).keys()].map((i) =>
      nc.request("par", sc.encode(String(i)), { timeout: 3000 }).then((m) => sc.decode(m.data) === String(i))));
    t.obs("correct", rs.filter(Boolean).length);
  });
  reg("request_timeout", async (t) => {
    const nc = await t.connect();
    nc.subscribe("silent");
    await nc.flush();
    t.obs(await attempt(() => nc.request("silent", Empty, { timeout: 300 })));
  });
  reg("no_responders", async (t) => {
    const nc = await t.connect();
    t.obs(await attempt(() => nc.request("nobody", Empty, { timeout: 3000 })));
    t.obs(await attempt(() => nc.request("nobody", Empty, { timeout: 3000, noMux: true })));
  });
  reg("headers_roundtrip", async (t) => {
    const nc = await t.connect();
    const sub = nc.subscribe("h");
    const h = headers();
    h.set("X-A", "1");
    h.append("X-B", "x");
    h.append("X-B", "y");
    nc.publish("h", sc.encode("body"), { headers: h });
    for await (const m of sub) {
      t.obs("A", m.headers.get("X-A"), "B", m.headers.values("X-B").join("|"), "data", sc.decode(m.data));
      break;
    }
  });
  reg("headers_status_code_header", async (t) => {
    const nc = await t.connect();
    const sub = nc.subscribe("hs");
    const h = headers(503, "Custom");
    nc.publish("hs", Empty, { headers: h });
    for await (const m of sub) {
      t.obs("code", m.headers.code, "desc", m.headers.description, "hasError", m.headers.hasError);
      break;
    }
  });
  reg("echo_off", async (t) => {
    const nc = await t.connect({ noEcho: true });
    const sub = nc.subscribe("e");
    nc.publish("e", sc.encode("self"));
    await nc.flush();
    const other = await t.connect();
    other.publish("e", sc.encode("other"));
    await other.flush();
    t.obs((await take(sub, 2, 500)).join(" "));
  });
  reg("auto_unsubscribe_max", async (t) => {
    const nc = await t.connect();
    const sub = nc.subscribe("m", { max: 2 });
    for (let i = 0; i < 5; i++) nc.publish("m", sc.encode(String(i)));
    t.obs((await take(sub, 5, 500)).join(" "), "closed", sub.isClosed());
  });
  reg("unsubscribe_later_max", async (t) => {
    const nc = await t.connect();
    const sub = nc.subscribe("um");
    sub.unsubscribe(3);
    for (let i = 0; i < 5; i++) nc.publish("um", sc.encode(String(i)));
    t.obs((await take(sub, 5, 500)).join(" "));
  });
  reg("drain_connection", async (t) => {
    const nc = await t.connect();
    let n = 0;
    nc.subscribe("d", { callback: () => { n++; } });
    const pub = await t.connect();
    await nc.flush();
    for (let i = 0; i < 200; i++) pub.publish("d", Empty);
    await pub.flush();
    await sleep(100);
    await nc.drain();
    t.obs("processed", n, "closed", nc.isClosed());
  });
  reg("drain_subscription", async (t) => {
    const nc = await t.connect();
    let n = 0;
    const sub = nc.subscribe("ds", { callback: () => { n++; } });
    for (let i = 0; i < 100; i++) nc.publish("ds", Empty);
    await nc.flush();
    await sub.drain();
    t.obs("processed", n, "closed", sub.isClosed());
  });
  reg("flush_and_rtt", async (t) => {
    const nc = await t.connect();
    t.obs("flush", await attempt(() => nc.flush()), "rtt", await attempt(() => nc.rtt()));
  });
  reg("large_payload_max", async (t) => {
    const nc = await t.connect();
    const sub = nc.subscribe("big");
    const data = new Uint8Array(nc.info.max_payload).map((_, i) => i % 251);
    nc.publish("big", data);
    for await (const m of sub) {
      t.obs("len", m.data.length, "intact", Buffer.compare(Buffer.from(m.data), Buffer.from(data)) === 0);
      break;
    }
    t.obs("over max:", await attempt(async () => nc.publish("big", new Uint8Array(data.length + 1))));
  });
  reg("reconnect_after_restart", async (t) => {
    const nc = await t.connect({ reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    const sub = nc.subscribe("rc");
    await nc.flush();
    const events = [];
    (async () => { for await (const s of nc.status()) events.push(s.type); })();
    await t.control("restart");
    for (let i = 0; i < 200 && !events.includes("reconnect"); i++) await sleep(50);
    t.obs("reconnected", events.includes("reconnect"));
    nc.publish("rc", sc.encode("after"));
    t.obs((await take(sub, 1)).join(" "));
  }, { timeout: 40 });
  reg("auth_user_pass", async (t) => {
    const nc = await t.connect({ user: "bob", pass: "pw" });
    t.obs("ok", await attempt(() => nc.flush()));
    t.obs("wrong", await attempt(() => t.connect({ user: "bob", pass: "nope" })));
    t.obs("none", await attempt(() => t.connect()));
  }, { flags: ["--user", "bob", "--pass", "pw"] });
  reg("auth_token", async (t) => {
    const nc = await t.connect({ token: "tk" });
    t.obs("ok", await attempt(() => nc.flush()));
    t.obs("bad", await attempt(() => t.connect({ token: "x" })));
  }, { flags: ["--auth", "tk"] });
  reg("max_connections", async (t) => {
    for (let i = 0; i < 30; i++) {  // the harness's readiness probe may still be counted
      try { await t.connect({ timeout: 1000 }); break; } catch (e) { await sleep(100); }
    }
    t.obs("second", await attempt(() => t.connect({ maxReconnectAttempts: 0, timeout: 2000 })));
  }, { config: "max_connections: 1\n" });
  reg("max_subscriptions", async (t) => {
    const nc = await t.connect();
    const events = [];
    (async () => { for await (const s of nc.status()) events.push(`${s.type}:${s.data}`); })();
    nc.subscribe("a"); nc.subscribe("b"); nc.subscribe("c");
    await nc.flush().catch(() => {});
    await sleep(300);
    t.obs("events", events.join(" "), "isClosed", nc.isClosed());
  }, { config: "max_subscriptions: 2\n" });
  reg("verbose_connection", async (t) => {
    const nc = await t.connect({ verbose: true });
    const sub = nc.subscribe("v");
    nc.publish("v", sc.encode("x"));
    t.obs((await take(sub, 1)).join(" "), await attempt(() => nc.flush()));
  });
  reg("pedantic_bad_subject", async (t) => {
    const nc = await t.connect({ pedantic: true });
    const events = [];
    (async () => { for await (const s of nc.status()) events.push(`${s.type}:${s.data}`); })();
    nc.publish("bad.*", Empty);
    await nc.flush().catch(() => {});
    await sleep(300);
    t.obs("events", events.join(" "), "isClosed", nc.isClosed());
  });
  reg("server_pings_answered", async (t) => {
    const nc = await t.connect();
    await sleep(700);
    t.obs("closed", nc.isClosed(), await attempt(() => nc.flush()));
  }, { config: 'ping_interval: "100ms"\nping_max: 2\n' });
  reg("client_pings", async (t) => {
    const nc = await t.connect({ pingInterval: 50, maxPingOut: 2 });
    await sleep(500);
    t.obs("closed", nc.isClosed());
  });
  reg("stats", async (t) => {
    const nc = await t.connect();
    const sub = nc.subscribe("st");
    for (let i = 0; i < 10; i++) nc.publish("st", sc.encode("abcde"));
    await take(sub, 10);
    const s = nc.stats();
    t.obs("in", s.inMsgs, s.inBytes, "out", s.outMsgs, s.outBytes);
  });
  reg("inbox_subscription_old_style", async (t) => {
    const nc = await t.connect();
    const inbox = nats.createInbox();
    const replies = nc.subscribe(inbox, { max: 1 });
    nc.subscribe("old", { callback: (_e, m) => m.respond(sc.encode("pong")) });
    await nc.flush();
    nc.publish("old", sc.encode("ping"), { reply: inbox });
    t.obs((await take(replies, 1)).map((s) => s.split(":")[1]).join(" "));
  });

  // ---- authentication and permissions
  const S3CRET_HASH = "$2a$04$zS2xR9.sxZ1GuWWapHsTMezMweO0yF71xYNWhcZzIcCyIAr.hfbtq";
  const PERM_USERS = `
authorization {
  users = [
    { user: pub, password: p, permissions: {
        publish: { allow: ["foo.>"], deny: "foo.secret" }
        subscribe: { allow: ["foo.*"], deny: "foo.hidden" } } }
    { user: all, password: "${S3CRET_HASH}" }
  ]
}
`;
  // The first asynchronous error a connection reports, as text.
  async function firstError(nc, ms = 1000) {
    const timer = sleep(ms).then(() => "no error");
    const seen = (async () => {
      for await (const s of nc.status()) if (s.type === "error") return String(s.data);
      return "closed";
    })();
    return Promise.race([seen, timer]);
  }
  reg("auth_nkey", async (t) => {
    const seed = new TextEncoder().encode(process.env.NATS_NKEY_SEED);
    const nc = await t.connect({ authenticator: nats.nkeyAuthenticator(seed) });
    t.obs("ok", await attempt(() => nc.flush()));
    t.obs("wrong user", await attempt(() => t.connect({ user: "u", pass: "p" })));
  }, { config: "authorization { users = [ {nkey: {nkey_user}} ] }\n" });
  reg("auth_bcrypt_users", async (t) => {
    const nc = await t.connect({ user: "all", pass: "s3cret" });
    t.obs("ok", await attempt(() => nc.flush()));
    t.obs("hash as password", await attempt(() => t.connect({ user: "all", pass: S3CRET_HASH })));
  }, { config: PERM_USERS });
  reg("auth_no_auth_user", async (t) => {
    const nc = await t.connect();
    t.obs("anonymous", await attempt(() => nc.flush()), "auth_required", !!nc.info.auth_required);
    t.obs("wrong", await attempt(() => t.connect({ user: "admin", pass: "x" })));
  }, { config: "authorization { users = [ {user: admin, password: pw}, {user: anon, password: a} ] }\nno_auth_user: anon\n" });
  reg("perm_publish_and_subscribe", async (t) => {
    const all = await t.connect({ user: "all", pass: "s3cret" });
    const sub = all.subscribe(">");
    await all.flush();
    const nc = await t.connect({ user: "pub", pass: "p" });
    const err = firstError(nc);
    nc.publish("foo.secret", sc.encode("1"));
    nc.publish("foo.ok", sc.encode("2"));
    t.obs("publish:", await err);
    t.obs((await take(sub, 1)).join(" "));
    const nc2 = await t.connect({ user: "pub", pass: "p" });
    const s2 = nc2.subscribe("foo.hidden");
    t.obs("subscribe:", await attempt(async () => { for await (const m of s2) break; }));
    const nc3 = await t.connect({ user: "pub", pass: "p" });
    const w = nc3.subscribe("foo.*");
    await nc3.flush();
    all.publish("foo.hidden", sc.encode("h"));
    all.publish("foo.shown", sc.encode("s"));
    t.obs("wildcard:", (await take(w, 1)).join(" "));
  }, { config: PERM_USERS });

  // TLS (certificates: conformance/harness/certs.py, NATS_CONF_CERTS). A
  // server's rejection is recorded as "rejected", not by text: Go's server
  // and natsd's OpenSSL word some alerts differently.
  const TLS_VERIFY = 'tls {\n  cert_file: "{certs}/server-cert.pem"\n  key_file: "{certs}/server-key.pem"\n' +
    '  ca_file: "{certs}/ca.pem"\n  verify: true\n}\n';
  const certFile = (name) => require("path").join(process.env.NATS_CONF_CERTS, name);
  const tlsOpts = (ca, client) => ({
    tls: client
      ? { caFile: certFile(ca), certFile: certFile(client + "-cert.pem"), keyFile: certFile(client + "-key.pem") }
      : { caFile: certFile(ca) },
  });
  // Connects and makes a round trip (a TLS 1.3 client finishes its side
  // before the server has checked its certificate); "OK" or the error.
  const tryTls = async (t, opts) => {
    try {
      const nc = await nats.connect({ servers: t.url, timeout: 5000, ...opts });
      try {
        await nc.flush();
      } finally {
        await nc.close();
      }
      return "OK";
    } catch (e) {
      return "rejected";
    }
  };

  reg("tls_verify_pub_sub", async (t) => {
    const nc = await t.connect(tlsOpts("ca.pem", "client"));
    t.obs("tls_required:", !!nc.info.tls_required, "tls_verify:", !!nc.info.tls_verify);
    const sub = nc.subscribe("tls.foo", { max: 1 });
    const big = "x".repeat(100000);
    nc.publish("tls.foo", sc.encode(big));
    for await (const m of sub) t.obs("got", m.data.length, "bytes, intact:", sc.decode(m.data) === big);
  }, { config: TLS_VERIFY });
  reg("tls_verify_client_cert_missing", async (t) => {
    t.obs("connect:", await tryTls(t, tlsOpts("ca.pem", "")));
  }, { config: TLS_VERIFY });
  reg("tls_verify_client_cert_other_ca", async (t) => {
    t.obs("connect:", await tryTls(t, tlsOpts("ca.pem", "other-client")));
  }, { config: TLS_VERIFY });
  reg("tls_client_trusts_other_ca", async (t) => {
    t.obs("connect:", await tryTls(t, tlsOpts("other-ca.pem", "client")));
  }, { config: TLS_VERIFY });
  // verify_and_map (as go/client/tls_cases.go): the user is the one the
  // client certificate names (its e-mail SAN alice@example.com), whose
  // permissions then apply. A certificate that names no configured user is
  // refused, even with another user's CONNECT credentials (ignored).
  const tlsMap = (users) => TLS_VERIFY.replace("verify: true", "verify_and_map: true") +
    `authorization { users: [ ${users} ] }\n`;
  reg("tls_verify_and_map", async (t) => {
    const nc = await t.connect(tlsOpts("ca.pem", "client"));
    const sub = nc.subscribe("vmap.>");
    const err = firstError(nc, 3000);
    nc.publish("other", sc.encode("denied"));
    nc.publish("vmap.a", sc.encode("allowed"));
    const denied = await err;
    t.obs("publish other:", denied);
    if (denied !== "PERMISSIONS_VIOLATION") t.fail("publish to other not denied: " + denied);
    const got = await take(sub, 1);
    t.obs("received:", got.join(" "));
    if (got.length !== 1) t.fail("vmap.a not delivered");
    t.obs("still connected:", !nc.isClosed());
    t.obs("other CA:", await tryTls(t, tlsOpts("ca.pem", "other-client")));
  }, { config: tlsMap('{user: "alice@example.com", permissions: {publish: "vmap.>", subscribe: "vmap.>"}}') });
  reg("tls_verify_and_map_no_user", async (t) => {
    const login = (extra) => attempt(async () => {
      const nc = await t.connect({ ...tlsOpts("ca.pem", "client"), ...extra });
      await nc.flush();
    });
    const refused = await login({});
    t.obs("connect:", refused);
    const asBob = await login({ user: "bob", pass: "b" });
    t.obs("with bob's credentials:", asBob);
    if (refused === "ok" || asBob === "ok") t.fail("a certificate naming no user logged in");
  }, { config: tlsMap('{user: "nobody@example.com"}, {user: bob, password: b}') });

  // Accounts (config-file accounts, as in go/client/account_cases.go):
  // logging in to account users, isolation, a stream import with a prefix and
  // a service import request/reply. Each case checks that what it relies on
  // (a control message, the import) really arrived. Start-up failures (an
  // import that is not authorized) are not covered: both servers must start.
  const ACCOUNTS = `
accounts {
  A: {
    users: [ {user: a, password: a} ]
    exports: [ {stream: "foo.>"}, {service: "req.*", accounts: [B]} ]
  }
  B: {
    users: [ {user: b, password: b} ]
    imports: [
      {stream: {account: A, subject: "foo.>"}, prefix: "x"}
      {service: {account: A, subject: "req.a"}, to: "local.req"}
    ]
  }
  C: { users: [ {user: c, password: c} ] }
}
`;
  const as = (t, user) => t.connect({ user, pass: user });
  // What a subscription gets until it has been quiet for ms (3s before the
  // first message); one iteration, so nothing queued behind a message is lost.
  async function collect(sub, ms) {
    const out = [];
    let timer = setTimeout(() => sub.unsubscribe(), 3000);
    for await (const m of sub) {
      out.push(`${m.subject}:${sc.decode(m.data)}`);
      clearTimeout(timer);
      timer = setTimeout(() => sub.unsubscribe(), ms);
    }
    clearTimeout(timer);
    return out;
  }
  reg("acc_js_login_account_users", async (t) => {
    for (const u of ["a", "b", "c"]) t.obs(u, await attempt(async () => (await as(t, u)).flush()));
    for (const [user, pass] of [["a", "wrong"], ["b", "a"], ["nobody", "x"]]) {
      const r = await attempt(() => t.connect({ user, pass }));
      t.obs(`${user}/${pass}`, r);
      if (r === "ok") t.fail(`login ${user}/${pass} accepted`);
    }
    t.obs("no credentials", await attempt(() => t.connect()));
  }, { config: ACCOUNTS });
  reg("acc_js_isolation", async (t) => {
    const [a, b, c] = [await as(t, "a"), await as(t, "b"), await as(t, "c")];
    const [as_, bs, cs] = [a, b, c].map((nc) => nc.subscribe("iso.>"));
    for (const nc of [a, b, c]) await nc.flush();
    // B publishes first; A and C then publish a control message each, which
    // they must see (and nothing before or after it).
    b.publish("iso.secret", sc.encode("from-b"));
    await b.flush();
    a.publish("iso.ctl.a", sc.encode("ctl"));
    c.publish("iso.ctl.c", sc.encode("ctl"));
    await a.flush();
    await c.flush();
    const got = { b: await collect(bs, 300), a: await collect(as_, 300), c: await collect(cs, 300) };
    for (const k of ["b", "a", "c"]) t.obs(k, got[k].join(" ") || "(nothing)");
    if (got.b[0] !== "iso.secret:from-b") t.fail("B did not see its own message");
    if (got.a[0] !== "iso.ctl.a:ctl") t.fail("A's control message did not arrive first");
    if (got.c[0] !== "iso.ctl.c:ctl") t.fail("C's control message did not arrive first");
  }, { config: ACCOUNTS });
  reg("acc_js_stream_import_prefix", async (t) => {
    const [a, b, c] = [await as(t, "a"), await as(t, "b"), await as(t, "c")];
    const bx = b.subscribe("x.>");
    const bown = b.subscribe("foo.>");
    const call = c.subscribe(">");
    await b.flush();
    await c.flush();
    // bar.baz is not exported: had it leaked it would arrive before foo.bar.
    a.publish("bar.baz", sc.encode("private"));
    a.publish("foo.bar", sc.encode("hi"));
    await a.flush();
    const got = await collect(bx, 300);
    t.obs("b x.>", got.join(" ") || "(nothing)");
    t.obs("b foo.>", (await take(bown, 1, 300)).join(" ") || "(nothing)");
    t.obs("c >", (await take(call, 1, 300)).join(" ") || "(nothing)");
    if (got[0] !== "x.foo.bar:hi") t.fail("the import did not deliver x.foo.bar");
  }, { config: ACCOUNTS });
  reg("acc_js_service_import", async (t) => {
    const a = await as(t, "a");
    const b = await as(t, "b");
    let seen = 0;
    a.subscribe("req.*", { callback: (_e, m) => {
      seen++;
      const info = (m.headers && m.headers.get("Nats-Request-Info")) || "(none)";
      t.obs("responder got", m.subject, sc.decode(m.data), "reply _R_:", (m.reply || "").startsWith("_R_."),
        "info", info.replace(/"rtt":\d+/, '"rtt":N'));
      m.respond(sc.encode("pong"));
    } });
    await a.flush();
    let reply = "";
    t.obs("request:", await attempt(async () => {
      reply = sc.decode((await b.request("local.req", sc.encode("ping"), { timeout: 3000 })).data);
    }), reply);
    if (seen !== 1) t.fail("the responder got " + seen + " requests");
    if (reply !== "pong") t.fail("the reply did not come back through the import");
    // The exporter's own subject is not visible to the importer.
    t.obs("direct req.a:", await attempt(() => b.request("req.a", sc.encode("ping"), { timeout: 1000 })));
    await a.flush();
    t.obs("responder calls", seen);
  }, { config: ACCOUNTS });
  // Subject mappings: a request to a mapped subject reaches the service on
  // the mapped one, and a mapped subject nobody serves gets no responders.
  const MAPPINGS = `
mappings {
  "svc.v1": "svc.v2"
  "gone": "nowhere"
  "split.*": "split.{{splitFromLeft(1,2)}}"
}
`;
  reg("mapping_js_request_and_split", async (t) => {
    const nc = await t.connect();
    nc.subscribe("svc.v2", { callback: (_e, m) => m.respond(sc.encode("v2:" + sc.decode(m.data))) });
    const all = nc.subscribe("split.>");
    await nc.flush();
    let reply = "";
    t.obs("request:", await attempt(async () => {
      reply = sc.decode((await nc.request("svc.v1", sc.encode("hi"), { timeout: 3000 })).data);
    }), reply);
    if (reply !== "v2:hi") t.fail("the request did not reach svc.v2");
    t.obs("unserved:", await attempt(() => nc.request("gone", Empty, { timeout: 1000 })));
    nc.publish("split.abcd", sc.encode("x"));
    t.obs("split:", (await take(all, 1, 1000)).join(" ") || "(nothing)");
  }, { config: MAPPINGS });
};
