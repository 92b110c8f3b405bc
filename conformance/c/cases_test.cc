// libnats (nats.c 3.4.1) conformance cases: each runs against nats-server and natsd.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>

#include "conformance/c/differential.h"

namespace {

using conformance::StatusText;

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Reads up to n messages (waiting `ms` for each) as "subject:data" words.
std::string Recv(conformance::Ctx& t, natsSubscription* sub, int n, int ms = 3000) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, sub, ms);
    if (s != NATS_OK) {
      out += "[" + StatusText(s) + "]";
      break;
    }
    out += std::string(natsMsg_GetSubject(m)) + ":" +
           std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)) + " ";
    natsMsg_Destroy(m);
  }
  return out;
}

natsSubscription* SubSync(conformance::Ctx& t, natsConnection* nc, const char* subj, const char* queue = nullptr) {
  natsSubscription* sub = nullptr;
  natsStatus s = queue ? natsConnection_QueueSubscribeSync(&sub, nc, subj, queue)
                       : natsConnection_SubscribeSync(&sub, nc, subj);
  t.CheckOk(s, std::string("subscribe ") + subj);
  t.Own(sub);
  return sub;
}

void Echo(natsConnection* nc, natsSubscription*, natsMsg* m, void*) {
  if (natsMsg_GetReply(m)) {
    std::string r = "re:" + std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m));
    natsConnection_PublishString(nc, natsMsg_GetReply(m), r.c_str());
  }
  natsMsg_Destroy(m);
}

void Count(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
  static_cast<std::atomic<int>*>(closure)->fetch_add(1);
  natsMsg_Destroy(m);
}

std::atomic<int>* NewCounter() { return new std::atomic<int>(0); }  // leaked: callbacks may outlive a case

}  // namespace

CONFORMANCE_CASE(connect_info, {}) {
  natsConnection* nc = t.Connect();
  t.Note("max_payload=%lld connected=%d", (long long)natsConnection_GetMaxPayload(nc),
         natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED);
}

CONFORMANCE_CASE(connect_max_payload_config, {.config = "max_payload: 512\n"}) {
  natsConnection* nc = t.Connect();
  t.Note("max_payload=%lld", (long long)natsConnection_GetMaxPayload(nc));
  std::string big(513, 'x');
  t.Note("publish over max: %s", StatusText(natsConnection_PublishString(nc, "x", big.c_str())).c_str());
}

CONFORMANCE_CASE(pub_sub_sync, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* sub = SubSync(t, nc, "foo");
  natsConnection_PublishString(nc, "foo", "one");
  natsConnection_PublishString(nc, "bar", "no");
  natsConnection_PublishString(nc, "foo", "two");
  t.Note("%s", Recv(t, sub, 3, 300).c_str());
}

CONFORMANCE_CASE(pub_sub_async_count, {}) {
  natsConnection* sc = t.Connect();
  auto* n = NewCounter();
  natsSubscription* sub = nullptr;
  t.CheckOk(natsConnection_Subscribe(&sub, sc, "cnt", Count, n), "subscribe");
  t.Own(sub);
  natsConnection_Flush(sc);
  natsConnection* pc = t.Connect();
  for (int i = 0; i < 1000; ++i) natsConnection_PublishString(pc, "cnt", "x");
  natsConnection_Flush(pc);
  for (int i = 0; i < 200 && n->load() < 1000; ++i) SleepMs(10);
  t.Note("received %d", n->load());
}

CONFORMANCE_CASE(wildcard_star, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* sub = SubSync(t, nc, "x.*.z");
  for (const char* s : {"x.y.z", "x.y", "x.y.z.w", "x.q.z"}) natsConnection_PublishString(nc, s, "m");
  t.Note("%s", Recv(t, sub, 3, 300).c_str());
}

CONFORMANCE_CASE(wildcard_gt, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* sub = SubSync(t, nc, "x.>");
  for (const char* s : {"x", "x.y", "x.y.z", "y.x"}) natsConnection_PublishString(nc, s, "m");
  t.Note("%s", Recv(t, sub, 3, 300).c_str());
}

CONFORMANCE_CASE(queue_group_exactly_once, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* a = SubSync(t, nc, "q", "g");
  natsSubscription* b = SubSync(t, nc, "q", "g");
  natsSubscription* c = SubSync(t, nc, "q", "g");
  natsSubscription* plain = SubSync(t, nc, "q");
  for (int i = 0; i < 300; ++i) natsConnection_PublishString(nc, "q", "m");
  natsConnection_Flush(nc);
  SleepMs(300);
  int pa = 0, pb = 0, pc = 0, pp = 0;
  natsSubscription_GetPending(a, &pa, nullptr);
  natsSubscription_GetPending(b, &pb, nullptr);
  natsSubscription_GetPending(c, &pc, nullptr);
  natsSubscription_GetPending(plain, &pp, nullptr);
  t.Note("group total=%d plain=%d fair=%d", pa + pb + pc, pp, pa >= 40 && pb >= 40 && pc >= 40);
}

CONFORMANCE_CASE(request_reply, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* sub = nullptr;
  t.CheckOk(natsConnection_Subscribe(&sub, nc, "svc", Echo, nullptr), "subscribe");
  t.Own(sub);
  for (const char* q : {"a", "b"}) {
    natsMsg* reply = nullptr;
    natsStatus s = natsConnection_RequestString(&reply, nc, "svc", q, 3000);
    t.Note("%s %s", StatusText(s).c_str(),
           reply ? std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)).c_str() : "");
    natsMsg_Destroy(reply);
  }
}

CONFORMANCE_CASE(request_reply_old_style, {}) {
  natsOptions* o = t.Options();
  natsOptions_UseOldRequestStyle(o, true);
  natsConnection* nc = t.Connect(o);
  natsConnection* srv = t.Connect();
  natsSubscription* sub = nullptr;
  t.CheckOk(natsConnection_Subscribe(&sub, srv, "svc.old", Echo, nullptr), "subscribe");
  t.Own(sub);
  natsConnection_Flush(srv);
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_RequestString(&reply, nc, "svc.old", "x", 3000);
  t.Note("%s %s", StatusText(s).c_str(),
         reply ? std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)).c_str() : "");
  natsMsg_Destroy(reply);
}

CONFORMANCE_CASE(request_manual_inbox, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* svc = nullptr;
  t.CheckOk(natsConnection_Subscribe(&svc, nc, "svc.m", Echo, nullptr), "subscribe");
  t.Own(svc);
  natsInbox* inbox = nullptr;
  natsInbox_Create(&inbox);
  natsSubscription* replies = SubSync(t, nc, inbox);
  natsSubscription_AutoUnsubscribe(replies, 1);
  natsConnection_PublishRequestString(nc, "svc.m", inbox, "hi");
  natsMsg* m = nullptr;
  natsStatus s = natsSubscription_NextMsg(&m, replies, 3000);
  t.Note("%s %s", StatusText(s).c_str(), m ? std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)).c_str() : "");
  natsMsg_Destroy(m);
  natsInbox_Destroy(inbox);
}

CONFORMANCE_CASE(request_timeout, {}) {
  natsConnection* nc = t.Connect();
  SubSync(t, nc, "silent");
  natsMsg* reply = nullptr;
  t.Note("%s", StatusText(natsConnection_RequestString(&reply, nc, "silent", "x", 300)).c_str());
}

CONFORMANCE_CASE(no_responders, {}) {
  natsConnection* nc = t.Connect();
  natsMsg* reply = nullptr;
  t.Note("%s", StatusText(natsConnection_RequestString(&reply, nc, "nobody", "x", 3000)).c_str());
}

CONFORMANCE_CASE(headers_roundtrip, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* sub = SubSync(t, nc, "h");
  natsMsg* m = nullptr;
  natsMsg_Create(&m, "h", nullptr, "body", 4);
  natsMsgHeader_Set(m, "K1", "v1");
  natsMsgHeader_Add(m, "K2", "a");
  natsMsgHeader_Add(m, "K2", "b");
  t.CheckOk(natsConnection_PublishMsg(nc, m), "publish");
  natsMsg_Destroy(m);
  natsMsg* got = nullptr;
  t.CheckOk(natsSubscription_NextMsg(&got, sub, 3000), "next");
  const char* v1 = nullptr;
  const char** vals = nullptr;
  int count = 0;
  natsMsgHeader_Get(got, "K1", &v1);
  natsMsgHeader_Values(got, "K2", &vals, &count);
  t.Note("K1=%s K2=%d:%s,%s data=%.*s", v1 ? v1 : "?", count, count > 0 ? vals[0] : "", count > 1 ? vals[1] : "",
         natsMsg_GetDataLength(got), natsMsg_GetData(got));
  free(vals);
  natsMsg_Destroy(got);
}

CONFORMANCE_CASE(echo_off, {}) {
  natsOptions* o = t.Options();
  natsOptions_SetNoEcho(o, true);
  natsConnection* nc = t.Connect(o);
  natsSubscription* sub = SubSync(t, nc, "e");
  natsConnection_PublishString(nc, "e", "self");
  natsConnection_Flush(nc);
  natsConnection* other = t.Connect();
  natsConnection_PublishString(other, "e", "other");
  natsConnection_Flush(other);
  t.Note("%s", Recv(t, sub, 2, 300).c_str());
}

CONFORMANCE_CASE(auto_unsubscribe, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* sub = SubSync(t, nc, "au");
  natsSubscription_AutoUnsubscribe(sub, 2);
  for (const char* d : {"1", "2", "3", "4"}) natsConnection_PublishString(nc, "au", d);
  t.Note("%s valid=%d", Recv(t, sub, 4, 300).c_str(), natsSubscription_IsValid(sub));
}

CONFORMANCE_CASE(unsubscribe, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* sub = SubSync(t, nc, "un");
  natsConnection_PublishString(nc, "un", "before");
  t.Note("%s", Recv(t, sub, 1).c_str());
  natsSubscription_Unsubscribe(sub);
  natsConnection_PublishString(nc, "un", "after");
  natsConnection_Flush(nc);
  natsMsg* m = nullptr;
  t.Note("after unsubscribe: %s", StatusText(natsSubscription_NextMsg(&m, sub, 200)).c_str());
}

CONFORMANCE_CASE(drain_connection, {}) {
  natsConnection* nc = t.Connect();
  auto* n = NewCounter();
  natsSubscription* sub = nullptr;
  t.CheckOk(natsConnection_Subscribe(&sub, nc, "dr", Count, n), "subscribe");
  t.Own(sub);
  natsConnection* pc = t.Connect();
  natsConnection_Flush(nc);
  for (int i = 0; i < 200; ++i) natsConnection_PublishString(pc, "dr", "x");
  natsConnection_Flush(pc);
  SleepMs(100);
  t.CheckOk(natsConnection_DrainTimeout(nc, 5000), "drain");
  for (int i = 0; i < 300 && !natsConnection_IsClosed(nc); ++i) SleepMs(10);
  t.Note("processed %d closed=%d", n->load(), natsConnection_IsClosed(nc));
}

CONFORMANCE_CASE(drain_subscription, {}) {
  natsConnection* nc = t.Connect();
  auto* n = NewCounter();
  natsSubscription* sub = nullptr;
  t.CheckOk(natsConnection_Subscribe(&sub, nc, "ds", Count, n), "subscribe");
  t.Own(sub);
  natsConnection_Flush(nc);
  natsConnection* pc = t.Connect();
  for (int i = 0; i < 100; ++i) natsConnection_PublishString(pc, "ds", "x");
  natsConnection_Flush(pc);
  SleepMs(100);
  t.CheckOk(natsSubscription_Drain(sub), "drain");
  t.Note("wait: %s processed %d", StatusText(natsSubscription_WaitForDrainCompletion(sub, 5000)).c_str(), n->load());
}

CONFORMANCE_CASE(flush_and_rtt, {}) {
  natsConnection* nc = t.Connect();
  int64_t rtt = 0;
  t.Note("flush=%s rtt=%s", StatusText(natsConnection_FlushTimeout(nc, 3000)).c_str(),
         StatusText(natsConnection_GetRTT(nc, &rtt)).c_str());
}

CONFORMANCE_CASE(large_payload_max, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* sub = SubSync(t, nc, "big");
  std::string data(natsConnection_GetMaxPayload(nc), '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 13);
  t.CheckOk(natsConnection_Publish(nc, "big", data.data(), data.size()), "publish");
  natsMsg* m = nullptr;
  t.CheckOk(natsSubscription_NextMsg(&m, sub, 3000), "next");
  t.Note("len=%d intact=%d", natsMsg_GetDataLength(m),
         std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)) == data);
  natsMsg_Destroy(m);
  data.push_back('x');
  t.Note("over max: %s", StatusText(natsConnection_Publish(nc, "big", data.data(), data.size())).c_str());
}

CONFORMANCE_CASE(auth_user_pass, {.flags = {"--user", "carol", "--pass", "pw"}}) {
  natsOptions* o = t.Options();
  natsOptions_SetUserInfo(o, "carol", "pw");
  t.Note("right: %s", t.TryConnect(o).c_str());
  natsOptions* w = t.Options();
  natsOptions_SetUserInfo(w, "carol", "bad");
  t.Note("wrong: %s", t.TryConnect(w).c_str());
  t.Note("none: %s", t.TryConnect().c_str());
}

CONFORMANCE_CASE(auth_token, {.flags = {"--auth", "tkn"}}) {
  natsOptions* o = t.Options();
  natsOptions_SetToken(o, "tkn");
  t.Note("right: %s", t.TryConnect(o).c_str());
  natsOptions* w = t.Options();
  natsOptions_SetToken(w, "bad");
  t.Note("wrong: %s", t.TryConnect(w).c_str());
}

CONFORMANCE_CASE(max_connections, {.config = "max_connections: 1\n"}) {
  // Retry the first connection while the harness's readiness probe is being reaped.
  for (int i = 0;; ++i) {
    try {
      t.Connect();
      break;
    } catch (const conformance::CheckFailed&) {
      if (i == 30) throw;
      SleepMs(100);
    }
  }
  t.Note("second: %s", t.TryConnect() == "OK" ? "accepted" : "refused");
}

CONFORMANCE_CASE(max_subscriptions, {.config = "max_subscriptions: 1\n"}) {
  natsConnection* nc = t.Connect();
  SubSync(t, nc, "a");
  SubSync(t, nc, "b");
  natsConnection_Flush(nc);
  SleepMs(200);
  const char* text = nullptr;
  natsStatus s = natsConnection_GetLastError(nc, &text);
  t.Note("last error: %s %s", StatusText(s).c_str(), text ? text : "");
}

CONFORMANCE_CASE(pedantic_bad_publish_subject, {}) {
  natsOptions* o = t.Options();
  natsOptions_SetPedantic(o, true);
  natsConnection* nc = t.Connect(o);
  natsConnection_PublishString(nc, "bad.>", "x");
  natsConnection_Flush(nc);
  SleepMs(200);
  const char* text = nullptr;
  natsStatus s = natsConnection_GetLastError(nc, &text);
  t.Note("last error: %s %s", StatusText(s).c_str(), text ? text : "");
}

CONFORMANCE_CASE(verbose_connection, {}) {
  natsOptions* o = t.Options();
  natsOptions_SetVerbose(o, true);
  natsConnection* nc = t.Connect(o);
  natsSubscription* sub = SubSync(t, nc, "vb");
  natsConnection_PublishString(nc, "vb", "x");
  t.Note("%s flush=%s", Recv(t, sub, 1).c_str(), StatusText(natsConnection_Flush(nc)).c_str());
}

CONFORMANCE_CASE(reconnect_after_restart, {}) {
  natsOptions* o = t.Options();
  natsOptions_SetReconnectWait(o, 100);
  natsOptions_SetMaxReconnect(o, 100);
  natsConnection* nc = t.Connect(o);
  natsSubscription* sub = SubSync(t, nc, "rc");
  natsConnection_Flush(nc);
  t.Check(t.Restart(), "restart");
  for (int i = 0; i < 200 && natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED; ++i) SleepMs(50);
  SleepMs(100);
  for (int i = 0; i < 200 && natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED; ++i) SleepMs(50);
  natsConnection_PublishString(nc, "rc", "after");
  natsConnection_Flush(nc);
  t.Note("%s", Recv(t, sub, 1, 5000).c_str());
  natsStatistics* st = nullptr;
  natsStatistics_Create(&st);
  natsConnection_GetStats(nc, st);
  uint64_t reconnects = 0;
  natsStatistics_GetCounts(st, nullptr, nullptr, nullptr, nullptr, &reconnects);
  natsStatistics_Destroy(st);
  t.Note("reconnects=%llu", (unsigned long long)reconnects);
}

CONFORMANCE_CASE(stats_counts, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* sub = SubSync(t, nc, "st");
  for (int i = 0; i < 10; ++i) natsConnection_PublishString(nc, "st", "12345");
  Recv(t, sub, 10);
  natsStatistics* st = nullptr;
  natsStatistics_Create(&st);
  natsConnection_GetStats(nc, st);
  uint64_t im = 0, ib = 0, om = 0, ob = 0;
  natsStatistics_GetCounts(st, &im, &ib, &om, &ob, nullptr);
  natsStatistics_Destroy(st);
  t.Note("in=%llu/%llu out=%llu/%llu", (unsigned long long)im, (unsigned long long)ib, (unsigned long long)om,
         (unsigned long long)ob);
}

CONFORMANCE_CASE(server_pings_answered, {.config = "ping_interval: \"100ms\"\nping_max: 2\n"}) {
  natsConnection* nc = t.Connect();
  SleepMs(700);
  t.Note("connected=%d", natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED);
}

CONFORMANCE_CASE(slow_consumer_client_side, {}) {
  natsConnection* nc = t.Connect();
  natsSubscription* sub = SubSync(t, nc, "slow");
  natsSubscription_SetPendingLimits(sub, 5, 1024 * 1024);
  for (int i = 0; i < 20; ++i) natsConnection_PublishString(nc, "slow", "x");
  natsConnection_Flush(nc);
  SleepMs(100);
  int64_t dropped = 0;
  natsSubscription_GetDropped(sub, &dropped);
  t.Note("dropped=%lld", (long long)dropped);
}

// ---- authentication and permissions

// bcrypt (cost 4) of "s3cret", made with Go's bcrypt.
#define S3CRET_HASH "$2a$04$zS2xR9.sxZ1GuWWapHsTMezMweO0yF71xYNWhcZzIcCyIAr.hfbtq"

CONFORMANCE_CASE(auth_nkey, {.config = "authorization { users = [ {nkey: {nkey_user}} ] }\n"}) {
  // The run's user key (conformance/harness/nkeys.py), through a seed file.
  const char* seed = getenv("NATS_NKEY_SEED");
  const char* pub = getenv("NATS_NKEY_PUBLIC");
  t.Check(seed != nullptr && pub != nullptr, "NATS_NKEY_SEED/PUBLIC set");
  char path[] = "/tmp/natsd-nkey-XXXXXX";
  const int fd = mkstemp(path);
  t.Check(fd >= 0, "seed file");
  t.Check(write(fd, seed, strlen(seed)) == static_cast<ssize_t>(strlen(seed)), "seed written");
  close(fd);
  natsOptions* o = t.Options();
  natsOptions_SetNKeyFromSeed(o, pub, path);
  t.Note("right: %s", t.TryConnect(o).c_str());
  natsOptions* w = t.Options();
  natsOptions_SetUserInfo(w, "u", "p");
  t.Note("user instead: %s", t.TryConnect(w).c_str());
  unlink(path);
}

CONFORMANCE_CASE(auth_bcrypt_and_no_auth_user,
                 {.config = "authorization { users = [ {user: a, password: \"" S3CRET_HASH
                            "\"}, {user: anon, password: x} ] }\nno_auth_user: anon\n"}) {
  natsOptions* o = t.Options();
  natsOptions_SetUserInfo(o, "a", "s3cret");
  t.Note("bcrypt: %s", t.TryConnect(o).c_str());
  natsOptions* w = t.Options();
  natsOptions_SetUserInfo(w, "a", S3CRET_HASH);
  t.Note("hash as password: %s", t.TryConnect(w).c_str());
  t.Note("anonymous: %s", t.TryConnect().c_str());
}

CONFORMANCE_CASE(perm_pub_sub, {.config = R"(
authorization { users = [
  { user: pub, password: p, permissions: {
      publish: { allow: ["foo.>"], deny: "foo.secret" }
      subscribe: { allow: ["foo.*", "work v1"], deny: "foo.hidden" } } }
  { user: all, password: p }
] }
)"}) {
  natsOptions* ao = t.Options();
  natsOptions_SetUserInfo(ao, "all", "p");
  natsConnection* all = t.Connect(ao);
  natsSubscription* everything = nullptr;
  t.CheckOk(natsConnection_SubscribeSync(&everything, all, ">"), "sub >");
  t.Own(everything);
  natsConnection_Flush(all);

  natsOptions* po = t.Options();
  natsOptions_SetUserInfo(po, "pub", "p");
  natsConnection* nc = t.Connect(po);
  natsConnection_PublishString(nc, "foo.secret", "denied");
  natsConnection_PublishString(nc, "bar", "not allowed");
  natsConnection_PublishString(nc, "foo.ok", "fine");
  natsConnection_Flush(nc);
  for (int i = 0; i < 2; ++i) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, everything, i == 0 ? 2000 : 300);
    t.Note("received: %s", s == NATS_OK ? natsMsg_GetSubject(m) : StatusText(s).c_str());
    natsMsg_Destroy(m);
  }
  t.Note("publisher still connected: %d", natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED);

  // A wildcard subscription allowed by foo.* does not get foo.hidden.
  natsSubscription* wild = nullptr;
  t.CheckOk(natsConnection_SubscribeSync(&wild, nc, "foo.*"), "sub foo.*");
  t.Own(wild);
  natsConnection_Flush(nc);
  natsConnection_PublishString(all, "foo.hidden", "h");
  natsConnection_PublishString(all, "foo.shown", "s");
  natsConnection_Flush(all);
  for (int i = 0; i < 2; ++i) {
    natsMsg* m = nullptr;
    natsStatus s = natsSubscription_NextMsg(&m, wild, i == 0 ? 2000 : 300);
    t.Note("wildcard got: %s", s == NATS_OK ? natsMsg_GetSubject(m) : StatusText(s).c_str());
    natsMsg_Destroy(m);
  }

  // A denied subscription: the server refuses it; nothing arrives on it.
  natsSubscription* hidden = nullptr;
  t.CheckOk(natsConnection_SubscribeSync(&hidden, nc, "foo.hidden"), "sub foo.hidden");
  t.Own(hidden);
  natsConnection_Flush(nc);
  natsConnection_PublishString(all, "foo.hidden", "h");
  natsConnection_Flush(all);
  natsMsg* m = nullptr;
  t.Note("denied sub: %s", StatusText(natsSubscription_NextMsg(&m, hidden, 500)).c_str());
  natsMsg_Destroy(m);
}

// ---------------------------------------------------------------------------
// TLS (certificates: conformance/harness/certs.py). Rejections are recorded
// as "rejected", not by text: the TLS libraries word the alert differently
// (Go's bad_certificate vs OpenSSL's certificate_required for a missing
// certificate), while what matters is that the client cannot connect.

namespace {
constexpr const char* kTlsVerifyConfig =
    "tls {\n"
    "  cert_file: \"{certs}/server-cert.pem\"\n"
    "  key_file: \"{certs}/server-key.pem\"\n"
    "  ca_file: \"{certs}/ca.pem\"\n"
    "  verify: true\n"
    "}\n";

// TLS options trusting `ca`, presenting the client certificate `client`
// ("client", "other-client" or "" for none).
natsOptions* TlsOptions(conformance::Ctx& t, const std::string& ca, const std::string& client) {
  natsOptions* o = t.Options();
  const std::string dir = conformance::CertsDir();
  natsOptions_SetSecure(o, true);
  t.CheckOk(natsOptions_LoadCATrustedCertificates(o, (dir + "/" + ca).c_str()), "load CA");
  if (!client.empty()) {
    t.CheckOk(natsOptions_LoadCertificatesChain(o, (dir + "/" + client + "-cert.pem").c_str(),
                                                (dir + "/" + client + "-key.pem").c_str()),
              "load client certificate");
  }
  return o;
}

std::string Outcome(const std::string& status) { return status == "OK" ? "OK" : "rejected"; }
}  // namespace

CONFORMANCE_CASE(tls_verify_pub_sub, {.config = kTlsVerifyConfig}) {
  natsConnection* nc = t.Connect(TlsOptions(t, "ca.pem", "client"));
  natsSubscription* sub = nullptr;
  t.CheckOk(natsConnection_SubscribeSync(&sub, nc, "tls.foo"), "sub");
  t.Own(sub);
  std::string big(100000, 'x');
  natsConnection_Publish(nc, "tls.foo", big.data(), static_cast<int>(big.size()));
  natsConnection_Flush(nc);
  natsMsg* m = nullptr;
  natsStatus s = natsSubscription_NextMsg(&m, sub, 3000);
  t.Note("got: %s, %d bytes intact: %d", StatusText(s).c_str(),
         s == NATS_OK ? natsMsg_GetDataLength(m) : 0,
         s == NATS_OK && std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)) == big);
  natsMsg_Destroy(m);
}

CONFORMANCE_CASE(tls_verify_client_cert_missing, {.config = kTlsVerifyConfig}) {
  t.Note("connect: %s", Outcome(t.TryConnect(TlsOptions(t, "ca.pem", ""))).c_str());
}

CONFORMANCE_CASE(tls_verify_client_cert_other_ca, {.config = kTlsVerifyConfig}) {
  t.Note("connect: %s", Outcome(t.TryConnect(TlsOptions(t, "ca.pem", "other-client"))).c_str());
}

CONFORMANCE_CASE(tls_client_trusts_other_ca, {.config = kTlsVerifyConfig}) {
  // The client refuses the server: nats.c says why in its own words.
  t.Note("connect: %s", t.TryConnect(TlsOptions(t, "other-ca.pem", "client")).c_str());
}

// verify_and_map (as go/client/tls_cases.go): the user is the one the client
// certificate names (its e-mail SAN alice@example.com), whose permissions
// then apply. A certificate that names no configured user is refused, even
// with another user's CONNECT credentials, which verify_and_map ignores.
namespace {
constexpr const char* kTlsMapTls =
    "tls {\n"
    "  cert_file: \"{certs}/server-cert.pem\"\n"
    "  key_file: \"{certs}/server-key.pem\"\n"
    "  ca_file: \"{certs}/ca.pem\"\n"
    "  verify_and_map: true\n"
    "}\n";
std::string TlsMapConfig(const std::string& users) {
  return std::string(kTlsMapTls) + "authorization { users: [ " + users + " ] }\n";
}

// nats_GetLastError() without libnats's "(conn.c:NNN): " source location.
std::string LastErrorText() {
  natsStatus s = NATS_OK;
  const char* p = nats_GetLastError(&s);
  std::string text = p ? p : "";
  if (!text.empty() && text[0] == '(' && text.find("): ") != std::string::npos) {
    text.erase(0, text.find("): ") + 3);
  }
  return text;
}
}  // namespace

CONFORMANCE_CASE(tls_verify_and_map, {.config = TlsMapConfig(
    "{user: \"alice@example.com\", permissions: {publish: \"vmap.>\", subscribe: \"vmap.>\"}}")}) {
  natsConnection* nc = t.Connect(TlsOptions(t, "ca.pem", "client"));
  natsSubscription* sub = nullptr;
  t.CheckOk(natsConnection_SubscribeSync(&sub, nc, "vmap.>"), "sub vmap.>");
  t.Own(sub);
  natsConnection_PublishString(nc, "other", "denied");
  natsConnection_PublishString(nc, "vmap.a", "allowed");
  t.CheckOk(natsConnection_Flush(nc), "flush");
  // The -ERR for "other" precedes the PONG that ended the flush.
  const char* text = nullptr;
  natsStatus err = natsConnection_GetLastError(nc, &text);
  t.Note("publish other: %s %s", StatusText(err).c_str(), text ? text : "");
  t.Check(err == NATS_NOT_PERMITTED, "publish to other denied by alice's permissions");
  natsMsg* m = nullptr;
  natsStatus s = natsSubscription_NextMsg(&m, sub, 3000);
  t.Note("received: %s", s == NATS_OK ? natsMsg_GetSubject(m) : StatusText(s).c_str());
  t.Check(s == NATS_OK, "vmap.a delivered");
  natsMsg_Destroy(m);
  t.Note("still connected: %d", natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED);
  t.Note("other CA: %s", Outcome(t.TryConnect(TlsOptions(t, "ca.pem", "other-client"))).c_str());
}

CONFORMANCE_CASE(tls_verify_and_map_no_user, {.config = TlsMapConfig(
    "{user: \"nobody@example.com\"}, {user: bob, password: b}")}) {
  const std::string status = t.TryConnect(TlsOptions(t, "ca.pem", "client"));
  t.Note("connect: %s (%s)", status.c_str(), LastErrorText().c_str());
  t.Check(status != "OK", "certificate naming no user refused");
  natsOptions* o = TlsOptions(t, "ca.pem", "client");
  natsOptions_SetUserInfo(o, "bob", "b");
  const std::string as_bob = t.TryConnect(o);
  t.Note("with bob's credentials: %s (%s)", as_bob.c_str(), LastErrorText().c_str());
  t.Check(as_bob != "OK", "CONNECT credentials ignored");
}

// ---------------------------------------------------------------------------
// Accounts (config-file accounts, as in go/client/account_cases.go): logging
// in to account users, isolation, a stream import with a prefix and a
// service import request/reply. Each case also checks that what it relies on
// (a control message, the import) really arrived, so it cannot pass on an
// empty observation. Start-up failures (an import that is not authorized)
// are not covered here: the harness needs both servers to start.

namespace {
constexpr const char* kAccountsConfig = R"(
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
)";

natsConnection* ConnectAs(conformance::Ctx& t, const char* user) {
  natsOptions* o = t.Options();
  natsOptions_SetUserInfo(o, user, user);
  return t.Connect(o);
}

// The next message as "subject:data", or "[status]" when none came within ms.
std::string Next(natsSubscription* sub, int ms) {
  natsMsg* m = nullptr;
  natsStatus s = natsSubscription_NextMsg(&m, sub, ms);
  if (s != NATS_OK) return "[" + StatusText(s) + "]";
  std::string out = std::string(natsMsg_GetSubject(m)) + ":" + std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m));
  natsMsg_Destroy(m);
  return out;
}
}  // namespace

CONFORMANCE_CASE(acc_c_login_account_users, {.config = kAccountsConfig}) {
  for (const char* user : {"a", "b", "c"}) {
    natsOptions* o = t.Options();
    natsOptions_SetUserInfo(o, user, user);
    t.Note("%s: %s", user, t.TryConnect(o).c_str());
  }
  const std::pair<const char*, const char*> bad[] = {{"a", "wrong"}, {"b", "a"}, {"nobody", "x"}};
  for (const auto& [user, pass] : bad) {
    natsOptions* o = t.Options();
    natsOptions_SetUserInfo(o, user, pass);
    const std::string status = t.TryConnect(o);
    t.Note("%s/%s: %s (%s)", user, pass, status.c_str(), LastErrorText().c_str());
    t.Check(status != "OK", std::string("login ") + user + "/" + pass + " refused");
  }
  t.Note("no credentials: %s", t.TryConnect().c_str());
}

CONFORMANCE_CASE(acc_c_isolation, {.config = kAccountsConfig}) {
  natsConnection* a = ConnectAs(t, "a");
  natsConnection* b = ConnectAs(t, "b");
  natsConnection* c = ConnectAs(t, "c");
  natsSubscription* asub = SubSync(t, a, "iso.>");
  natsSubscription* bsub = SubSync(t, b, "iso.>");
  natsSubscription* csub = SubSync(t, c, "iso.>");
  for (natsConnection* nc : {a, b, c}) t.CheckOk(natsConnection_Flush(nc), "flush");
  // B publishes first; A and C then publish a control message each, which
  // they must see (and nothing before or after it).
  t.CheckOk(natsConnection_PublishString(b, "iso.secret", "from-b"), "publish b");
  t.CheckOk(natsConnection_Flush(b), "flush b");
  t.CheckOk(natsConnection_PublishString(a, "iso.ctl.a", "ctl"), "publish a");
  t.CheckOk(natsConnection_PublishString(c, "iso.ctl.c", "ctl"), "publish c");
  t.CheckOk(natsConnection_Flush(a), "flush a");
  t.CheckOk(natsConnection_Flush(c), "flush c");
  const std::string b_first = Next(bsub, 3000);
  const std::string a_first = Next(asub, 3000);
  const std::string c_first = Next(csub, 3000);
  t.Note("b: %s then %s", b_first.c_str(), Next(bsub, 300).c_str());
  t.Note("a: %s then %s", a_first.c_str(), Next(asub, 300).c_str());
  t.Note("c: %s then %s", c_first.c_str(), Next(csub, 300).c_str());
  t.Check(b_first == "iso.secret:from-b", "B sees its own message");
  t.Check(a_first == "iso.ctl.a:ctl", "A's control message arrived first");
  t.Check(c_first == "iso.ctl.c:ctl", "C's control message arrived first");
}

CONFORMANCE_CASE(acc_c_stream_import_prefix, {.config = kAccountsConfig}) {
  natsConnection* a = ConnectAs(t, "a");
  natsConnection* b = ConnectAs(t, "b");
  natsConnection* c = ConnectAs(t, "c");
  natsSubscription* bx = SubSync(t, b, "x.>");
  natsSubscription* bown = SubSync(t, b, "foo.>");
  natsSubscription* call = SubSync(t, c, ">");
  t.CheckOk(natsConnection_Flush(b), "flush b");
  t.CheckOk(natsConnection_Flush(c), "flush c");
  // bar.baz is not exported: had it leaked it would arrive before foo.bar.
  t.CheckOk(natsConnection_PublishString(a, "bar.baz", "private"), "publish");
  t.CheckOk(natsConnection_PublishString(a, "foo.bar", "hi"), "publish");
  t.CheckOk(natsConnection_Flush(a), "flush a");
  const std::string got = Next(bx, 3000);
  t.Note("b x.>: %s then %s", got.c_str(), Next(bx, 300).c_str());
  t.Note("b foo.>: %s", Next(bown, 300).c_str());
  t.Note("c >: %s", Next(call, 300).c_str());
  t.Check(got == "x.foo.bar:hi", "the import delivered x.foo.bar");
}

CONFORMANCE_CASE(acc_c_service_import, {.config = kAccountsConfig}) {
  natsConnection* a = ConnectAs(t, "a");
  natsConnection* b = ConnectAs(t, "b");
  natsSubscription* responder = SubSync(t, a, "req.*");
  t.CheckOk(natsConnection_Flush(a), "flush a");
  // The requester runs on its own thread; observations stay on this one.
  natsMsg* reply = nullptr;
  natsStatus rs = NATS_ERR;
  std::thread requester([&] { rs = natsConnection_RequestString(&reply, b, "local.req", "ping", 3000); });
  natsMsg* req = nullptr;
  natsStatus s = natsSubscription_NextMsg(&req, responder, 3000);
  if (s == NATS_OK) {
    const char* info = nullptr;
    std::string masked = natsMsgHeader_Get(req, "Nats-Request-Info", &info) == NATS_OK ? info : "(none)";
    const size_t rtt = masked.find("\"rtt\":");
    if (rtt != std::string::npos) {
      size_t end = rtt + 6;
      while (end < masked.size() && isdigit(static_cast<unsigned char>(masked[end]))) ++end;
      masked.replace(rtt + 6, end - rtt - 6, "N");
    }
    const char* to = natsMsg_GetReply(req);
    t.Note("responder got %s %.*s reply _R_: %d info %s", natsMsg_GetSubject(req), natsMsg_GetDataLength(req),
           natsMsg_GetData(req), to != nullptr && strncmp(to, "_R_.", 4) == 0, masked.c_str());
    if (to != nullptr) natsConnection_PublishString(a, to, "pong");
    natsConnection_Flush(a);
  } else {
    t.Note("responder: %s", StatusText(s).c_str());
  }
  natsMsg_Destroy(req);
  requester.join();
  t.Note("request: %s %.*s", StatusText(rs).c_str(), reply ? natsMsg_GetDataLength(reply) : 0,
         reply ? natsMsg_GetData(reply) : "");
  const bool answered = rs == NATS_OK && std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)) == "pong";
  natsMsg_Destroy(reply);
  t.Check(s == NATS_OK, "the responder got the request");
  t.Check(answered, "the reply came back through the import");
  // The exporter's own subject is not visible to the importer.
  natsMsg* direct = nullptr;
  t.Note("direct req.a: %s", StatusText(natsConnection_RequestString(&direct, b, "req.a", "ping", 1000)).c_str());
  natsMsg_Destroy(direct);
  t.Note("responder after: %s", Next(responder, 300).c_str());
}
