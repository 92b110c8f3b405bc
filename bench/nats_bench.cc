// nats-bench: a load generator compatible with the classic Go `nats-bench`
// command line, built on libnats (nats.c).
//
//   nats-bench -s nats://127.0.0.1:4222 -np 1 -ns 1 -n 100000 -ms 128 foo
//   nats-bench -s URL -np 1 -ns 4 -qs -n 100000 foo        # queue group
//   nats-bench -s URL -req -np 1 -ns 1 -n 20000 -ms 16 foo  # request/reply
//
// Pub/sub mode: every subscriber connects and subscribes (pending limits
// unlimited, as the Go tool does), then every publisher publishes its share of
// -n messages as fast as libnats' buffered publish allows and flushes
// (PING/PONG) at the end. Each subscriber expects all -n messages (with -qs
// the members of the queue group together expect -n). The run fails with exit
// status 1 if any subscriber falls short: a message is lost when no progress is
// seen for -timeout seconds after the publishers finished, when the client
// library dropped messages, or when a connection was closed (for example as a
// slow consumer by the server).
//
// Request mode: -ns responders (default 1) echo the payload back; -np
// requesters split -n sequential requests among them and the round-trip
// latency of each is recorded (after a short unrecorded warm-up).
//
// Not thread-safe beyond what is written down: the counters shared with
// libnats callback threads are atomics; everything else belongs to main().

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// libnats 3.4 rejects -1 ("no limit") for pending limits; INT_MAX messages and
// bytes is effectively unlimited for a bounded benchmark run.
constexpr int kUnlimited = 0x7fffffff;

struct Args {
  std::string url = "nats://127.0.0.1:4222";
  int num_pubs = 1;
  int num_subs = 0;
  int64_t num_msgs = 100000;
  int msg_size = 128;
  std::string csv_file;
  std::string subject;
  bool request_mode = false;
  bool queue_subs = false;
  std::string queue_name = "natsbench";
  double timeout_sec = 10.0;  // no-progress timeout for subscribers/requests
  bool json = false;
  int io_buf_size = 0;  // 0: libnats default
  int warmup = 100;     // request mode: unrecorded requests per requester
};

void Usage() {
  std::fprintf(
      stderr,
      "Usage: nats-bench [-s server] [-np num] [-ns num] [-n num] [-ms size]\n"
      "                  [-csv file] [-qs] [-req] [-timeout secs] [-json] <subject>\n"
      "  -s URL        server URL (default nats://127.0.0.1:4222)\n"
      "  -np N         number of concurrent publishers / requesters (default 1)\n"
      "  -ns N         number of concurrent subscribers / responders (default 0)\n"
      "  -n N          number of messages to publish (default 100000)\n"
      "  -ms SIZE      size of the message payload in bytes (default 128)\n"
      "  -csv FILE     save per-client results to FILE in CSV format\n"
      "  -qs           subscribers join one queue group (they share -n messages)\n"
      "  -queue NAME   queue group name (default natsbench)\n"
      "  -req          request/reply latency mode (responders: -ns, default 1)\n"
      "  -warmup N     request mode: unrecorded warm-up requests per requester (100)\n"
      "  -timeout S    fail if subscribers make no progress for S seconds (10)\n"
      "  -iobuf BYTES  libnats I/O buffer size (default: library default)\n"
      "  -json         also print a one-line JSON summary prefixed by 'JSON '\n");
}

bool ParseArgs(int argc, char** argv, Args* a) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string f = argv[i];
    if (f.size() > 2 && f[0] == '-' && f[1] == '-') f = f.substr(1);  // --x == -x
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "flag needs an argument: %s\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    auto int_value = [&](const char* name, int64_t* out) -> bool {
      const char* v = value(name);
      if (v == nullptr) return false;
      char* end = nullptr;
      long long x = std::strtoll(v, &end, 10);
      if (end == v || *end != '\0' || x < 0) {
        std::fprintf(stderr, "invalid value %s for %s\n", v, name);
        return false;
      }
      *out = x;
      return true;
    };
    int64_t x = 0;
    if (f == "-s") {
      const char* v = value("-s");
      if (v == nullptr) return false;
      a->url = v;
    } else if (f == "-np") {
      if (!int_value("-np", &x)) return false;
      a->num_pubs = static_cast<int>(x);
    } else if (f == "-ns") {
      if (!int_value("-ns", &x)) return false;
      a->num_subs = static_cast<int>(x);
    } else if (f == "-n") {
      if (!int_value("-n", &x)) return false;
      a->num_msgs = x;
    } else if (f == "-ms") {
      if (!int_value("-ms", &x)) return false;
      a->msg_size = static_cast<int>(x);
    } else if (f == "-csv") {
      const char* v = value("-csv");
      if (v == nullptr) return false;
      a->csv_file = v;
    } else if (f == "-qs") {
      a->queue_subs = true;
    } else if (f == "-queue") {
      const char* v = value("-queue");
      if (v == nullptr) return false;
      a->queue_name = v;
      a->queue_subs = true;
    } else if (f == "-req") {
      a->request_mode = true;
    } else if (f == "-warmup") {
      if (!int_value("-warmup", &x)) return false;
      a->warmup = static_cast<int>(x);
    } else if (f == "-timeout") {
      const char* v = value("-timeout");
      if (v == nullptr) return false;
      a->timeout_sec = std::atof(v);
      if (a->timeout_sec <= 0) a->timeout_sec = 10.0;
    } else if (f == "-iobuf") {
      if (!int_value("-iobuf", &x)) return false;
      a->io_buf_size = static_cast<int>(x);
    } else if (f == "-json") {
      a->json = true;
    } else if (f == "-h" || f == "-help") {
      Usage();
      std::exit(0);
    } else if (f.size() > 1 && f[0] == '-') {
      std::fprintf(stderr, "unknown flag: %s\n", argv[i]);
      return false;
    } else {
      positional.push_back(f);
    }
  }
  if (positional.size() != 1) {
    std::fprintf(stderr, "exactly one subject is required\n");
    return false;
  }
  a->subject = positional[0];
  if (a->request_mode && a->num_subs == 0) a->num_subs = 1;
  if (a->num_pubs == 0 && a->num_subs == 0) {
    std::fprintf(stderr, "nothing to do: -np 0 and -ns 0\n");
    return false;
  }
  return true;
}

// A time interval and the number of messages counted in it, as in the Go
// bench package's Sample.
struct Sample {
  int64_t msgs = 0;
  int64_t bytes = 0;  // payload bytes
  Clock::time_point start{};
  Clock::time_point end{};

  double Seconds() const {
    double s = std::chrono::duration<double>(end - start).count();
    return s > 0 ? s : 1e-9;
  }
  double Rate() const { return msgs / Seconds(); }
  double Throughput() const { return bytes / Seconds(); }
};

Sample Combine(const std::vector<Sample>& samples) {
  Sample g;
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample& s = samples[i];
    if (i == 0 || s.start < g.start) g.start = s.start;
    if (i == 0 || s.end > g.end) g.end = s.end;
    g.msgs += s.msgs;
    g.bytes += s.bytes;
  }
  return g;
}

std::string Commas(int64_t n) {
  std::string in = std::to_string(n < 0 ? -n : n);
  std::string out;
  int k = 0;
  for (int i = static_cast<int>(in.size()) - 1; i >= 0; --i) {
    out.insert(out.begin(), in[i]);
    if (++k == 3 && i > 0) {
      out.insert(out.begin(), ',');
      k = 0;
    }
  }
  return n < 0 ? "-" + out : out;
}

std::string HumanBytes(double b) {
  static const char* kPre[] = {"K", "M", "G", "T", "P", "E"};
  char buf[64];
  if (b < 1024) {
    std::snprintf(buf, sizeof buf, "%.2f B", b);
    return buf;
  }
  int exp = static_cast<int>(std::log(b) / std::log(1024.0));
  if (exp > 6) exp = 6;
  std::snprintf(buf, sizeof buf, "%.2f %sB", b / std::pow(1024.0, exp), kPre[exp - 1]);
  return buf;
}

std::string Describe(const Sample& s) {
  return Commas(static_cast<int64_t>(s.Rate())) + " msgs/sec ~ " + HumanBytes(s.Throughput()) + "/sec";
}

std::string Statistics(const std::vector<Sample>& v) {
  double mn = 0, mx = 0, sum = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    double r = std::floor(v[i].Rate());
    if (i == 0 || r < mn) mn = r;
    if (i == 0 || r > mx) mx = r;
    sum += r;
  }
  double avg = std::floor(sum / v.size());
  double var = 0;
  for (const auto& s : v) var += (std::floor(s.Rate()) - avg) * (std::floor(s.Rate()) - avg);
  var /= v.size();
  return "min " + Commas(static_cast<int64_t>(mn)) + " | avg " + Commas(static_cast<int64_t>(avg)) +
         " | max " + Commas(static_cast<int64_t>(mx)) + " | stddev " +
         Commas(static_cast<int64_t>(std::sqrt(var))) + " msgs";
}

// Per-connection event flags, set from libnats' callback threads.
struct ConnEvents {
  std::atomic<bool> disconnected{false};
  std::atomic<bool> closed{false};
  std::atomic<int64_t> slow_consumer_errors{0};
  std::atomic<int> last_async_error{NATS_OK};
};

void OnDisconnected(natsConnection*, void* closure) {
  static_cast<ConnEvents*>(closure)->disconnected = true;
}
void OnClosed(natsConnection*, void* closure) { static_cast<ConnEvents*>(closure)->closed = true; }
void OnAsyncError(natsConnection*, natsSubscription*, natsStatus err, void* closure) {
  auto* ev = static_cast<ConnEvents*>(closure);
  if (err == NATS_SLOW_CONSUMER) ev->slow_consumer_errors++;
  ev->last_async_error = err;
}

// A libnats connection plus the events observed on it. Owned by main().
struct Client {
  natsConnection* nc = nullptr;
  std::unique_ptr<ConnEvents> events = std::make_unique<ConnEvents>();

  ~Client() {
    if (nc != nullptr) natsConnection_Destroy(nc);
  }
};

bool Connect(const Args& a, bool send_asap, Client* c) {
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, a.url.c_str());
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, false);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 5000);
  if (s == NATS_OK && send_asap) s = natsOptions_SetSendAsap(opts, true);
  if (s == NATS_OK && a.io_buf_size > 0) s = natsOptions_SetIOBufSize(opts, a.io_buf_size);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts, OnDisconnected, c->events.get());
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts, OnClosed, c->events.get());
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(opts, OnAsyncError, c->events.get());
  if (s == NATS_OK) s = natsConnection_Connect(&c->nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    std::fprintf(stderr, "nats-bench: cannot connect to %s: %s\n", a.url.c_str(), natsStatus_GetText(s));
    return false;
  }
  return true;
}

// State of one subscriber (or one queue-group member). The counters are
// written by the subscription's delivery thread and read by main().
struct SubState {
  Client client;
  natsSubscription* sub = nullptr;
  int64_t expected = 0;           // messages this subscriber must see (non-queue)
  std::atomic<int64_t>* group_count = nullptr;  // queue mode: shared counter
  int64_t group_expected = 0;
  std::atomic<int64_t> received{0};
  std::atomic<int64_t> first_ns{0};
  std::atomic<int64_t> last_ns{0};
  std::mutex* done_mu = nullptr;
  std::condition_variable* done_cv = nullptr;

};

// Stops delivery to the subscribers and closes their connections. The
// SubState objects are then deliberately leaked: a libnats delivery thread may
// still be inside a callback that points at one, and the process is about to
// exit anyway.
void CloseAndLeak(std::vector<std::unique_ptr<SubState>>* subs) {
  for (auto& st : *subs) {
    natsSubscription_Unsubscribe(st->sub);
    natsConnection_Close(st->client.nc);
    (void)st.release();
  }
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

Clock::time_point FromNs(int64_t ns) { return Clock::time_point(std::chrono::nanoseconds(ns)); }

void OnBenchMsg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* st = static_cast<SubState*>(closure);
  natsMsg_Destroy(msg);
  int64_t now = NowNs();
  int64_t n = st->received.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n == 1) st->first_ns = now;
  st->last_ns.store(now, std::memory_order_relaxed);
  bool done;
  if (st->group_count != nullptr) {
    done = st->group_count->fetch_add(1, std::memory_order_relaxed) + 1 == st->group_expected;
  } else {
    done = n == st->expected;
  }
  if (done) {
    std::lock_guard<std::mutex> l(*st->done_mu);
    st->done_cv->notify_all();
  }
}

void OnEcho(natsConnection* nc, natsSubscription*, natsMsg* msg, void*) {
  const char* reply = natsMsg_GetReply(msg);
  if (reply != nullptr && reply[0] != '\0') {
    natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
  }
  natsMsg_Destroy(msg);
}

std::vector<int64_t> MsgsPerClient(int64_t n, int clients) {
  std::vector<int64_t> v(clients, clients ? n / clients : 0);
  for (int64_t i = 0; i < (clients ? n % clients : 0); ++i) v[i]++;
  return v;
}

void JsonNum(std::string* out, const char* key, double v, bool comma = true) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "\"%s\":%.6g%s", key, v, comma ? "," : "");
  *out += buf;
}

int RunPubSub(const Args& a) {
  std::mutex done_mu;
  std::condition_variable done_cv;
  std::atomic<int64_t> group_count{0};

  std::vector<std::unique_ptr<SubState>> subs;
  for (int i = 0; i < a.num_subs; ++i) {
    auto st = std::make_unique<SubState>();
    if (!Connect(a, false, &st->client)) return 2;
    st->expected = a.num_msgs;
    st->done_mu = &done_mu;
    st->done_cv = &done_cv;
    if (a.queue_subs) {
      st->group_count = &group_count;
      st->group_expected = a.num_msgs;
    }
    natsStatus s = a.queue_subs ? natsConnection_QueueSubscribe(&st->sub, st->client.nc, a.subject.c_str(),
                                                                a.queue_name.c_str(), OnBenchMsg, st.get())
                                : natsConnection_Subscribe(&st->sub, st->client.nc, a.subject.c_str(),
                                                           OnBenchMsg, st.get());
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(st->sub, kUnlimited, kUnlimited);
    if (s == NATS_OK) s = natsConnection_FlushTimeout(st->client.nc, 5000);
    if (s != NATS_OK) {
      std::fprintf(stderr, "nats-bench: subscribe failed: %s\n", natsStatus_GetText(s));
      return 2;
    }
    subs.push_back(std::move(st));
  }

  std::vector<std::unique_ptr<Client>> pubs;
  for (int i = 0; i < a.num_pubs; ++i) {
    auto c = std::make_unique<Client>();
    if (!Connect(a, false, c.get())) return 2;
    pubs.push_back(std::move(c));
  }

  std::printf("Starting benchmark [msgs=%lld, msgsize=%d, pubs=%d, subs=%d%s]\n",
              static_cast<long long>(a.num_msgs), a.msg_size, a.num_pubs, a.num_subs,
              a.queue_subs ? ", queue" : "");
  std::fflush(stdout);

  std::vector<int64_t> counts = MsgsPerClient(a.num_msgs, a.num_pubs);
  std::vector<Sample> pub_samples(a.num_pubs);
  std::vector<std::string> pub_errors(a.num_pubs);
  std::vector<char> payload(a.msg_size, 'x');
  std::vector<std::thread> threads;
  for (int i = 0; i < a.num_pubs; ++i) {
    threads.emplace_back([&, i] {
      natsConnection* nc = pubs[i]->nc;
      Sample& smp = pub_samples[i];
      smp.start = Clock::now();
      natsStatus s = NATS_OK;
      for (int64_t k = 0; k < counts[i] && s == NATS_OK; ++k) {
        s = natsConnection_Publish(nc, a.subject.c_str(), payload.data(), a.msg_size);
      }
      if (s == NATS_OK) s = natsConnection_FlushTimeout(nc, 60000);
      smp.end = Clock::now();
      smp.msgs = counts[i];
      smp.bytes = counts[i] * a.msg_size;
      if (s != NATS_OK) pub_errors[i] = natsStatus_GetText(s);
    });
  }
  for (auto& t : threads) t.join();

  bool failed = false;
  for (int i = 0; i < a.num_pubs; ++i) {
    if (!pub_errors[i].empty()) {
      std::fprintf(stderr, "nats-bench: FAIL: publisher %d: %s\n", i + 1, pub_errors[i].c_str());
      failed = true;
    }
  }

  // Wait for the subscribers; give up when none progresses for timeout_sec.
  auto all_done = [&] {
    if (a.queue_subs) return group_count.load() >= a.num_msgs;
    for (auto& st : subs)
      if (st->received.load() < st->expected) return false;
    return true;
  };
  auto total_received = [&] {
    int64_t t = 0;
    for (auto& st : subs) t += st->received.load();
    return t;
  };
  if (!subs.empty()) {
    int64_t last_total = total_received();
    auto last_progress = Clock::now();
    std::unique_lock<std::mutex> l(done_mu);
    while (!all_done()) {
      done_cv.wait_for(l, std::chrono::milliseconds(100));
      // A subscriber whose connection is gone will not make progress.
      bool lost = false;
      for (auto& st : subs)
        if (st->client.events->closed && (a.queue_subs || st->received.load() < st->expected)) lost = true;
      if (lost) break;
      int64_t t = total_received();
      if (t != last_total) {
        last_total = t;
        last_progress = Clock::now();
      } else if (Clock::now() - last_progress > std::chrono::duration<double>(a.timeout_sec)) {
        break;
      }
    }
  }

  std::vector<Sample> sub_samples;
  int64_t total_dropped = 0;
  for (size_t i = 0; i < subs.size(); ++i) {
    SubState& st = *subs[i];
    int64_t dropped = 0;
    natsSubscription_GetDropped(st.sub, &dropped);
    total_dropped += dropped;
    int64_t got = st.received.load();
    bool conn_lost = st.client.events->disconnected || st.client.events->closed;
    if (!a.queue_subs && got < st.expected) {
      std::fprintf(stderr,
                   "nats-bench: FAIL: subscriber %zu received %lld of %lld messages "
                   "(client-dropped %lld, slow-consumer events %lld%s)\n",
                   i + 1, static_cast<long long>(got), static_cast<long long>(st.expected),
                   static_cast<long long>(dropped), static_cast<long long>(st.client.events->slow_consumer_errors.load()),
                   conn_lost ? ", connection closed by server" : "");
      failed = true;
    } else if (dropped > 0 || conn_lost) {
      std::fprintf(stderr, "nats-bench: FAIL: subscriber %zu: client-dropped %lld%s\n", i + 1,
                   static_cast<long long>(dropped), conn_lost ? ", connection closed by server" : "");
      failed = true;
    }
    if (got > 0) {
      Sample smp;
      smp.msgs = got;
      smp.bytes = got * a.msg_size;
      smp.start = FromNs(st.first_ns.load());
      smp.end = FromNs(st.last_ns.load());
      sub_samples.push_back(smp);
    }
  }
  if (a.queue_subs && group_count.load() != a.num_msgs) {
    std::fprintf(stderr, "nats-bench: FAIL: queue group received %lld of %lld messages\n",
                 static_cast<long long>(group_count.load()), static_cast<long long>(a.num_msgs));
    failed = true;
  }

  // Report, in the Go nats-bench layout.
  Sample pub_all = Combine(pub_samples);
  Sample sub_all = Combine(sub_samples);
  Sample agg;
  if (!sub_samples.empty() && !pub_samples.empty()) {
    agg.start = std::min(pub_all.start, sub_all.start);
    agg.end = std::max(pub_all.end, sub_all.end);
    agg.msgs = pub_all.msgs + sub_all.msgs;
    agg.bytes = pub_all.bytes + sub_all.bytes;
  } else {
    agg = sub_samples.empty() ? pub_all : sub_all;
  }
  std::string indent;
  if (!pub_samples.empty() && !sub_samples.empty()) {
    std::printf("\nNATS Pub/Sub stats: %s\n", Describe(agg).c_str());
    indent = " ";
  } else {
    std::printf("\n");
  }
  auto section = [&](const char* name, const std::vector<Sample>& v, const Sample& all) {
    if (v.empty()) return;
    std::printf("%s%s stats: %s\n", indent.c_str(), name, Describe(all).c_str());
    if (v.size() > 1) {
      for (size_t i = 0; i < v.size(); ++i)
        std::printf("%s [%zu] %s (%lld msgs)\n", indent.c_str(), i + 1, Describe(v[i]).c_str(),
                    static_cast<long long>(v[i].msgs));
      std::printf("%s %s\n", indent.c_str(), Statistics(v).c_str());
    }
  };
  section("Pub", pub_samples, pub_all);
  section("Sub", sub_samples, sub_all);
  if (total_dropped > 0) std::printf("Client-side drops: %lld\n", static_cast<long long>(total_dropped));

  if (!a.csv_file.empty()) {
    FILE* f = std::fopen(a.csv_file.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "nats-bench: cannot write %s\n", a.csv_file.c_str());
      failed = true;
    } else {
      char run_id[32];
      std::snprintf(run_id, sizeof run_id, "%llx", static_cast<unsigned long long>(NowNs()));
      std::fprintf(f, "#RunID,ClientID,MsgCount,MsgBytes,MsgsPerSec,BytesPerSec,DurationSecs\n");
      auto rows = [&](const char* pre, const std::vector<Sample>& v) {
        for (size_t i = 0; i < v.size(); ++i)
          std::fprintf(f, "%s,%s%zu,%lld,%lld,%lld,%f,%f\n", run_id, pre, i, static_cast<long long>(v[i].msgs),
                       static_cast<long long>(v[i].bytes), static_cast<long long>(v[i].Rate()),
                       v[i].Throughput(), v[i].Seconds());
      };
      rows("S", sub_samples);
      rows("P", pub_samples);
      std::fclose(f);
      std::printf("Saved metric data in csv file %s\n", a.csv_file.c_str());
    }
  }

  if (a.json) {
    std::string j = "{\"mode\":\"pubsub\",";
    JsonNum(&j, "msgs", a.num_msgs);
    JsonNum(&j, "size", a.msg_size);
    JsonNum(&j, "pubs", a.num_pubs);
    JsonNum(&j, "subs", a.num_subs);
    JsonNum(&j, "pub_msgs_per_sec", pub_samples.empty() ? 0 : pub_all.Rate());
    JsonNum(&j, "pub_bytes_per_sec", pub_samples.empty() ? 0 : pub_all.Throughput());
    JsonNum(&j, "sub_msgs_per_sec", sub_samples.empty() ? 0 : sub_all.Rate());
    JsonNum(&j, "sub_bytes_per_sec", sub_samples.empty() ? 0 : sub_all.Throughput());
    JsonNum(&j, "agg_msgs_per_sec", agg.Rate());
    JsonNum(&j, "agg_bytes_per_sec", agg.Throughput());
    JsonNum(&j, "sub_received", total_received());
    JsonNum(&j, "client_dropped", total_dropped);
    j += std::string("\"ok\":") + (failed ? "false" : "true") + "}";
    std::printf("JSON %s\n", j.c_str());
  }
  std::fflush(stdout);
  CloseAndLeak(&subs);
  return failed ? 1 : 0;
}

double Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t idx = static_cast<size_t>(std::ceil(q * sorted.size()));
  if (idx == 0) idx = 1;
  if (idx > sorted.size()) idx = sorted.size();
  return static_cast<double>(sorted[idx - 1]);
}

int RunRequest(const Args& a) {
  std::vector<std::unique_ptr<SubState>> responders;
  for (int i = 0; i < a.num_subs; ++i) {
    auto st = std::make_unique<SubState>();
    if (!Connect(a, true, &st->client)) return 2;
    natsStatus s = a.queue_subs ? natsConnection_QueueSubscribe(&st->sub, st->client.nc, a.subject.c_str(),
                                                                a.queue_name.c_str(), OnEcho, nullptr)
                                : natsConnection_Subscribe(&st->sub, st->client.nc, a.subject.c_str(), OnEcho,
                                                           nullptr);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(st->sub, kUnlimited, kUnlimited);
    if (s == NATS_OK) s = natsConnection_FlushTimeout(st->client.nc, 5000);
    if (s != NATS_OK) {
      std::fprintf(stderr, "nats-bench: responder subscribe failed: %s\n", natsStatus_GetText(s));
      return 2;
    }
    responders.push_back(std::move(st));
  }
  std::vector<std::unique_ptr<Client>> reqs;
  for (int i = 0; i < a.num_pubs; ++i) {
    auto c = std::make_unique<Client>();
    if (!Connect(a, true, c.get())) return 2;
    reqs.push_back(std::move(c));
  }
  std::printf("Starting request/reply benchmark [requests=%lld, msgsize=%d, requesters=%d, responders=%d%s]\n",
              static_cast<long long>(a.num_msgs), a.msg_size, a.num_pubs, a.num_subs,
              a.queue_subs ? ", queue" : "");
  std::fflush(stdout);

  std::vector<int64_t> counts = MsgsPerClient(a.num_msgs, a.num_pubs);
  std::vector<std::vector<int64_t>> lat(a.num_pubs);
  std::vector<std::string> errors(a.num_pubs);
  std::vector<Sample> samples(a.num_pubs);
  std::vector<char> payload(a.msg_size, 'x');
  int64_t timeout_ms = static_cast<int64_t>(a.timeout_sec * 1000);
  std::vector<std::thread> threads;
  for (int i = 0; i < a.num_pubs; ++i) {
    threads.emplace_back([&, i] {
      natsConnection* nc = reqs[i]->nc;
      lat[i].reserve(counts[i]);
      natsStatus s = NATS_OK;
      for (int k = 0; k < a.warmup && s == NATS_OK; ++k) {
        natsMsg* reply = nullptr;
        s = natsConnection_Request(&reply, nc, a.subject.c_str(), payload.data(), a.msg_size, timeout_ms);
        natsMsg_Destroy(reply);
      }
      samples[i].start = Clock::now();
      for (int64_t k = 0; k < counts[i] && s == NATS_OK; ++k) {
        natsMsg* reply = nullptr;
        auto t0 = Clock::now();
        s = natsConnection_Request(&reply, nc, a.subject.c_str(), payload.data(), a.msg_size, timeout_ms);
        auto t1 = Clock::now();
        if (s == NATS_OK) {
          if (natsMsg_GetDataLength(reply) != a.msg_size) s = NATS_ERR;
          lat[i].push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
        }
        natsMsg_Destroy(reply);
      }
      samples[i].end = Clock::now();
      samples[i].msgs = static_cast<int64_t>(lat[i].size());
      samples[i].bytes = samples[i].msgs * a.msg_size;
      if (s != NATS_OK) errors[i] = natsStatus_GetText(s);
    });
  }
  for (auto& t : threads) t.join();

  bool failed = false;
  std::vector<int64_t> all;
  for (int i = 0; i < a.num_pubs; ++i) {
    if (!errors[i].empty()) {
      std::fprintf(stderr, "nats-bench: FAIL: requester %d completed %zu of %lld requests: %s\n", i + 1,
                   lat[i].size(), static_cast<long long>(counts[i]), errors[i].c_str());
      failed = true;
    }
    all.insert(all.end(), lat[i].begin(), lat[i].end());
  }
  std::sort(all.begin(), all.end());
  Sample agg = Combine(samples);
  double us = 1e-3;
  double p50 = Percentile(all, 0.50) * us, p90 = Percentile(all, 0.90) * us, p99 = Percentile(all, 0.99) * us,
         p999 = Percentile(all, 0.999) * us, mx = all.empty() ? 0 : all.back() * us,
         mn = all.empty() ? 0 : all.front() * us;
  std::printf("\nRequest/reply stats: %s (%zu round trips)\n", Describe(agg).c_str(), all.size());
  std::printf(" Latency (us): min %.1f | p50 %.1f | p90 %.1f | p99 %.1f | p99.9 %.1f | max %.1f\n", mn, p50, p90,
              p99, p999, mx);
  if (!a.csv_file.empty()) {
    FILE* f = std::fopen(a.csv_file.c_str(), "w");
    if (f != nullptr) {
      std::fprintf(f, "#Requester,LatencyNs\n");
      for (int i = 0; i < a.num_pubs; ++i)
        for (int64_t v : lat[i]) std::fprintf(f, "R%d,%lld\n", i, static_cast<long long>(v));
      std::fclose(f);
      std::printf("Saved latencies in csv file %s\n", a.csv_file.c_str());
    }
  }
  if (a.json) {
    std::string j = "{\"mode\":\"req\",";
    JsonNum(&j, "requests", static_cast<double>(all.size()));
    JsonNum(&j, "size", a.msg_size);
    JsonNum(&j, "requesters", a.num_pubs);
    JsonNum(&j, "responders", a.num_subs);
    JsonNum(&j, "req_per_sec", agg.Rate());
    JsonNum(&j, "min_us", mn);
    JsonNum(&j, "p50_us", p50);
    JsonNum(&j, "p90_us", p90);
    JsonNum(&j, "p99_us", p99);
    JsonNum(&j, "p999_us", p999);
    JsonNum(&j, "max_us", mx);
    j += std::string("\"ok\":") + (failed ? "false" : "true") + "}";
    std::printf("JSON %s\n", j.c_str());
  }
  std::fflush(stdout);
  CloseAndLeak(&responders);
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, &a)) {
    Usage();
    return 2;
  }
  if (nats_Open(-1) != NATS_OK) {
    std::fprintf(stderr, "nats-bench: nats_Open failed\n");
    return 2;
  }
  // No nats_Close(): subscriber state is leaked on purpose (see CloseAndLeak)
  // and the process exits right away.
  return a.request_mode ? RunRequest(a) : RunPubSub(a);
}
