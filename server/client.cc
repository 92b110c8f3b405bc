#include "server/client.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "fmt/format.h"
#include "protocol/errors.h"
#include "protocol/subject.h"
#include "server/account.h"
#include "server/auth.h"
#include "server/go_quote.h"
#include "server/logger.h"
#include "server/nkeys.h"
#include "server/server.h"
#include "server/tls/tls_session.h"
#include "server/worker.h"

namespace natsd {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kOk = "+OK\r\n";
constexpr std::string_view kPing = "PING\r\n";
constexpr std::string_view kPong = "PONG\r\n";
// How long a closing connection may take to write its final -ERR.
constexpr absl::Duration kFlushOnCloseTimeout = absl::Seconds(1);
// The reference's firstClientPingInterval.
constexpr absl::Duration kFirstPingInterval = absl::Seconds(2);
// The reference's stallClientMinDuration / stallClientMaxDuration.
constexpr absl::Duration kStallMin = absl::Milliseconds(100);
constexpr absl::Duration kStallMax = absl::Seconds(1);
// How often a stalled producer checks its subscriber. A stall ends once the
// subscriber is at or below max_pending/2, so it still has half its limit
// queued (32 MB by default) and stays busy for far longer than this: a few
// milliseconds of lag cost it nothing, while ~500 timer wake-ups a second
// per stalled producer are negligible. (The reference is woken by the
// subscriber's flush instead; a cross-thread wake-up per write would cost
// the subscriber's thread on the hot path.)
constexpr absl::Duration kStallPollInterval = absl::Milliseconds(2);

// The reference's stallDuration: the minimum, plus the minimum again for
// each tenth of the upper half that `pending` has used; the maximum once
// max_pending is reached.
absl::Duration StallDuration(int64_t pending, int64_t max_pending) {
  const int64_t half = max_pending / 2;
  if (pending >= max_pending) return kStallMax;
  const int64_t tenth = std::max<int64_t>(half / 10, 1);
  return std::min(kStallMax, kStallMin * (1 + (pending - half) / tenth));
}

}  // namespace

std::string_view CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kClientClosed: return "Client Closed";
    case CloseReason::kAuthenticationTimeout: return "Authentication Timeout";
    case CloseReason::kAuthenticationViolation: return "Authentication Failure";
    case CloseReason::kTlsHandshakeError: return "TLS Handshake Failure";
    case CloseReason::kSlowConsumerPendingBytes: return "Slow Consumer (Pending Bytes)";
    case CloseReason::kSlowConsumerWriteDeadline: return "Slow Consumer (Write Deadline)";
    case CloseReason::kWriteError: return "Write Error";
    case CloseReason::kReadError: return "Read Error";
    case CloseReason::kParseError: return "Parse Error";
    case CloseReason::kStaleConnection: return "Stale Connection";
    case CloseReason::kProtocolViolation: return "Protocol Violation";
    case CloseReason::kBadClientProtocolVersion: return "Bad Client Protocol Version";
    case CloseReason::kMaxPayloadExceeded: return "Maximum Message Payload Exceeded";
    case CloseReason::kMaxControlLineExceeded: return "Maximum Control Line Exceeded";
    case CloseReason::kMaxConnectionsExceeded: return "Maximum Connections Exceeded";
    case CloseReason::kMaxAccountConnectionsExceeded:
      return "Maximum Account Connections Exceeded";
    case CloseReason::kMaxSubscriptionsExceeded: return "Maximum Subscriptions Exceeded";
    case CloseReason::kNoRespondersRequiresHeaders: return "No Responders Requires Headers";
    case CloseReason::kServerShutdown: return "Server Shutdown";
  }
  return "Unknown";
}

Client::Client(Server& server, Worker& worker, uint64_t cid)
    : server_(server),
      worker_(worker),
      cid_(cid),
      account_(&server.global_account()),
      match_cache_(&worker.match_cache(account_->index())),
      parser_(Parser::Limits{worker.options().max_control_line,
                             worker.options().max_payload}),
      max_payload_(worker.options().max_payload),
      max_subs_(worker.options().max_subscriptions > 0 ? worker.options().max_subscriptions
                                                       : -1) {}

Client::~Client() = default;

void Client::Start(io::Connection* conn) {
  conn_ = conn;
  peer_address_ = conn->peer_address();
  state_ = State::kOpen;
  last_activity_ = worker_.loop().Now();
  auth_required_ = worker_.config().auth->auth_required();
  if (auth_required_) parser_.set_expect_connect(true);
  parser_.set_headers(false);
  if (Logger::Global().debug_enabled()) {
    Logger::Global().Debug("{}Client connection created", LogPrefix());
  }
  // The challenge an NKEY user signs; a fresh one per connection.
  if (worker_.config().auth->nonce_required()) nonce_ = NewNonce();
  SendProto(worker_.config().ClientInfo(cid_, conn_->peer_ip(), nonce_));
  if (!server_.AdmitConnection(options().max_connections)) {
    CloseMaxConnectionsExceeded();
    return;
  }
  admitted_ = true;
  // With TLS the auth timer starts once the handshake is done, as in the
  // reference.
  if (worker_.config().tls != nullptr) {
    StartTls();
    return;
  }
  ArmAuthTimer();
}

const Options& Client::options() const { return worker_.options(); }

void Client::ArmAuthTimer() {
  if (!auth_required_) return;
  std::weak_ptr<Client> weak = weak_from_this();
  auth_timer_ = worker_.loop().AddTimer(options().auth_timeout, [weak] {
    if (auto self = weak.lock()) self->OnAuthTimeout();
  });
}

void Client::CloseMaxConnectionsExceeded() {
  Logger::Global().Error("{}{}", LogPrefix(), kErrMaxConnections);
  SendErrAndClose(kErrMaxConnections, CloseReason::kMaxConnectionsExceeded);
}

// ---------------------------------------------------------------------------
// Reading and parsing

void Client::OnRead(std::string_view data) {
  if (state_ != State::kOpen) return;
  last_activity_ = worker_.loop().Now();
  if (tls_ != nullptr) [[unlikely]] {
    OnTlsRead(data);
    return;
  }
  Parse(data);
}

bool Client::Parse(std::string_view data) {
  switch (parser_.Parse(data, *this)) {
    case ParseStatus::kOk:
    case ParseStatus::kStopped:
      // After the whole read, so that the messages already read are routed
      // in order before the pause.
      if (stall_candidate_ != nullptr) [[unlikely]] BeginStall();
      return state_ == State::kOpen;
    case ParseStatus::kUnknownOp:
      Logger::Global().Error("{}Client parser ERROR, state={}", LogPrefix(),
                  parser_.error_detail());
      SendErrAndClose(kErrUnknownOp, CloseReason::kProtocolViolation);
      return false;
    case ParseStatus::kMaxControlLine:
      Logger::Global().Error("{}{}", LogPrefix(), parser_.error_detail());
      SendErrAndClose(kErrMaxControlLine,
                      CloseReason::kMaxControlLineExceeded);
      return false;
    case ParseStatus::kMaxPayload:
      Logger::Global().Error("{}{}", LogPrefix(), parser_.error_detail());
      SendErrAndClose(kErrMaxPayload, CloseReason::kMaxPayloadExceeded);
      return false;
    case ParseStatus::kAuthViolation:
      AuthViolation();
      return false;
    case ParseStatus::kBadArgs:
      // The reference logs the parse error and closes without an -ERR.
      Logger::Global().Error("{}{}", LogPrefix(), parser_.error_detail());
      Close(CloseReason::kParseError, /*flush=*/true);
      return false;
  }
  return false;
}

bool Client::OnConnect(std::string_view json) {
  if (Logger::Global().trace_enabled()) Trace("<<-", "CONNECT", json);
  absl::StatusOr<ConnectOptions> parsed = ParseConnect(json, opts_);
  if (!parsed.ok()) {
    Logger::Global().Error("{}{}", LogPrefix(), std::string(parsed.status().message()));
    Close(CloseReason::kParseError, /*flush=*/true);
    return false;
  }
  opts_ = *std::move(parsed);
  connect_received_ = true;
  // As the reference: the time since accept estimates the round trip until
  // a PING measures it (/connz rtt, the Nats-Request-Info header).
  rtt_ = absl::Now() - start_;
  if (auth_timer_ != 0) {
    worker_.loop().CancelTimer(auth_timer_);
    auth_timer_ = 0;
  }
  // Naming an account in CONNECT is refused, as by the reference (accounts
  // come from the server's configuration, not from the client).
  if ((auth_required_ && !Authenticate(opts_)) || !opts_.account.empty() ||
      opts_.new_account) {
    AuthViolation();
    return false;
  }
  if (!JoinAccount()) {
    CloseMaxAccountConnectionsExceeded();
    return false;
  }
  parser_.set_expect_connect(false);
  // HPUB is a parse error until the client says it understands headers.
  parser_.set_headers(opts_.headers);
  if (opts_.protocol < 0 || opts_.protocol > 1) {
    SendErrAndClose(kErrBadClientProtocol,
                    CloseReason::kBadClientProtocolVersion);
    return false;
  }
  if (opts_.no_responders && !opts_.headers) {
    SendErrAndClose(kErrNoRespondersRequiresHeaders,
                    CloseReason::kNoRespondersRequiresHeaders);
    return false;
  }
  if (opts_.verbose) SendOk();
  if (ping_timer_ == 0) ArmPingTimer(/*first=*/true);
  // An account allowing no subscriptions at all: the reference tells the
  // client and closes it.
  if (SubsAtLimit()) [[unlikely]] {
    MaxSubsExceeded();
    Close(CloseReason::kMaxSubscriptionsExceeded, /*flush=*/true);
    return false;
  }
  return true;
}

bool Client::Authenticate(const ConnectOptions& connect) {
  const Authenticator& auth = *worker_.config().auth;
  // verify_and_map: the client certificate names the user.
  std::optional<CertIdentity> cert;
  if (tls_ != nullptr && auth.maps_certificates()) cert = tls_->PeerIdentity();
  std::optional<AuthenticatedUser> user =
      auth.Authenticate(connect, nonce_, cert.has_value() ? &*cert : nullptr);
  if (!user.has_value()) return false;
  auth_user_ = std::move(user->name);
  // As the reference, the mapped user is shown as the CONNECT's (/connz).
  if (cert.has_value()) opts_.user = auth_user_;
  SetPermissions(user->permissions);
  // A connection's subscriptions stay in the account they were made in, so
  // a re-authenticating CONNECT may not move it to another one.
  Account* account = server_.accounts().Find(user->account);
  if (account != account_) {
    if (!subs_.empty() || account == nullptr) return false;
    account_ = account;
    match_cache_ = &worker_.match_cache(account->index());
  }
  return true;
}

bool Client::OnPubArgs(const PubArgs& args) {
  if (Logger::Global().trace_enabled()) {
    Trace("<<-", args.header_size >= 0 ? "HPUB" : "PUB", args.raw);
  }
  if (opts_.pedantic && !IsValidLiteralSubject(args.subject)) {
    SendErr(kErrInvalidPublishSubject);
  }
  return true;
}

namespace {
// The last whitespace-separated token of `s` and what precedes it. The
// reference echoes sizes exactly as the publisher wrote them ("005").
std::string_view LastToken(std::string_view s, std::string_view* rest) {
  size_t end = s.size();
  while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
  size_t begin = end;
  while (begin > 0 && s[begin - 1] != ' ' && s[begin - 1] != '\t') --begin;
  if (rest != nullptr) *rest = s.substr(0, begin);
  return s.substr(begin, end - begin);
}
}  // namespace

bool Client::OnMsg(const PubArgs& published, std::string_view payload) {
  // The account's mappings rewrite the subject first: permissions, routing
  // and no-responders all see the mapped subject, as in the reference.
  PubArgs args = published;
  std::string mapped;
  if (const SubjectMappings* m = account_->mappings(); m != nullptr) {
    if (std::optional<std::string> to = m->Select(published.subject)) {
      mapped = *std::move(to);
      if (Logger::Global().trace_enabled()) {
        Trace("<<-", "MAPPING", fmt::format("{} -> {}", published.subject, mapped));
      }
      args.subject = mapped;
    }
  }
  if (Logger::Global().trace_enabled()) TracePayload(payload);
  ++in_msgs_;
  in_bytes_ += payload.size();
  // The weights chose no destination: the message is dropped.
  if (args.subject.empty()) return state_ == State::kOpen;
  if (!PublishAllowed(args)) return state_ == State::kOpen;
  if (opts_.verbose) SendOk();

  Message msg;
  msg.subject = args.subject;
  msg.reply = args.reply;
  msg.payload = payload;
  std::string_view rest;
  msg.total_size = LastToken(args.raw, &rest);
  if (args.header_size >= 0) {
    msg.header_size = LastToken(rest, nullptr);
    msg.header_len = args.header_size;
  }
  bool delivered = RouteMessage(msg);
  if (!delivered && !msg.reply.empty() && opts_.no_responders) {
    SendNoResponders(msg.reply);
  }
  return state_ == State::kOpen;
}

bool Client::RouteMessage(const Message& msg) {
  return DeliverResult(match_cache_->Match(account_->sublist(), msg.subject), msg, 0);
}

bool Client::DeliverResult(const SublistResult& result, const Message& msg, int hops) {
  bool delivered = false;
  for (const SubscriptionPtr& s : result.psubs) {
    delivered |= DeliverTo(static_cast<ClientSub&>(*s), msg, hops);
  }
  // One member per queue group: start at a random member and take the first
  // that accepts (skips members that are closing or over their limits).
  for (const std::vector<SubscriptionPtr>& group : result.qsubs) {
    const size_t n = group.size();
    if (n == 0) continue;
    const size_t start = worker_.NextRandom() % n;
    for (size_t i = 0; i < n; ++i) {
      if (DeliverTo(static_cast<ClientSub&>(*group[(start + i) % n]), msg, hops)) {
        delivered = true;
        break;
      }
    }
  }
  return delivered;
}

void Client::SendNoResponders(std::string_view reply) {
  // The reference answers on the client's own subscription that matches the
  // reply subject (its response inbox).
  const SublistResult& r = match_cache_->Match(account_->sublist(), reply);
  for (const SubscriptionPtr& s : r.psubs) {
    auto& sub = static_cast<ClientSub&>(*s);
    if (sub.client.get() != this) continue;
    SendProto(fmt::format("HMSG {} {} 16 16\r\nNATS/1.0 503\r\n\r\n\r\n",
                          reply, sub.sid));
    return;
  }
}

bool Client::Deliver(ClientSub& sub, const Message& msg, Client& producer) {
  // The subscriber's deny list and response tracking (null: no permissions).
  if (ClientPermissions* p = perms_.load(std::memory_order_acquire);
      p != nullptr && !p->AllowDelivery(msg.subject, msg.reply)) {
    return false;
  }
  if (&producer == this && !opts_.echo) return false;
  if (sub.closed.load(std::memory_order_relaxed) ||
      close_requested_.load(std::memory_order_relaxed)) {
    return false;
  }
  const int64_t max = sub.max.load(std::memory_order_relaxed);
  const int64_t n = sub.delivered.fetch_add(1, std::memory_order_relaxed) + 1;
  if (max > 0) {
    if (n > max) return false;
    if (n == max) {
      // This one is delivered, then the subscription is done: no later
      // message passes the check above, and the owner thread removes it.
      sub.closed.store(true, std::memory_order_relaxed);
      std::weak_ptr<Client> weak = weak_from_this();
      worker_.loop().Post([weak, sid = sub.sid] {
        auto self = weak.lock();
        if (self == nullptr) return;
        if (auto it = self->subs_.find(sid); it != self->subs_.end()) {
          self->Unsubscribe(it->second);
          self->subs_.erase(it);
        }
      });
    }
  }

  // Frame: MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n, or HMSG with
  // both sizes when the subscriber negotiated headers. A subscriber without
  // headers gets the body only. Sizes are echoed as the publisher wrote them,
  // as the reference does. The frame goes to Append as pieces, copied once
  // into the subscriber's buffer: no formatting pass per delivery.
  const bool has_headers = msg.header_len > 0;
  std::string_view payload = msg.payload;
  const std::string_view reply_sep = msg.reply.empty() ? "" : " ";
  // The producer's worker is this thread's: its configuration is safe here.
  const int64_t max_pending = producer.worker_.options().max_pending;
  Outbound::AppendResult appended;
  if (has_headers && opts_.headers) {
    appended = out_.AppendMessage(
        {"HMSG ", msg.subject, " ", sub.sid, " ", msg.reply, reply_sep,
         msg.header_size, " ", msg.total_size, kCrlf, payload, kCrlf},
        payload.size(), max_pending);
  } else if (has_headers) {
    payload.remove_prefix(msg.header_len);
    const fmt::format_int size(payload.size());
    appended = out_.AppendMessage(
        {"MSG ", msg.subject, " ", sub.sid, " ", msg.reply, reply_sep,
         std::string_view(size.data(), size.size()), kCrlf, payload, kCrlf},
        payload.size(), max_pending);
  } else {
    appended = out_.AppendMessage(
        {"MSG ", msg.subject, " ", sub.sid, " ", msg.reply, reply_sep,
         msg.total_size, kCrlf, payload, kCrlf},
        payload.size(), max_pending);
  }

  switch (appended) {
    case Outbound::AppendResult::kQueued:
      break;
    case Outbound::AppendResult::kQueuedNeedsFlush:
      producer.worker().ScheduleFlush(shared_from_this());
      break;
    case Outbound::AppendResult::kOverLimit:
      Logger::Global().Notice("{}Slow Consumer Detected: MaxPending of {} Exceeded",
                   LogPrefix(), max_pending);
      CloseAsync(CloseReason::kSlowConsumerPendingBytes);
      return false;
    case Outbound::AppendResult::kClosed:
      return false;
  }
  // Past half of max_pending the producer is stalled (not for its own
  // subscriptions: it would wait for a write it is itself holding up). The
  // one comparison is all a delivery pays below half; with no limit
  // (max_pending <= 0) the threshold is 0 and the second test rejects it.
  if (out_.pending_bytes() > max_pending / 2) [[unlikely]] {
    if (max_pending > 0 && &producer != this && producer.stall_candidate_ == nullptr) {
      producer.stall_candidate_ = shared_from_this();
    }
  }
  // out_msgs_/out_bytes_ are added by Flush, from the Outbound's counts.
  return true;
}

bool Client::OnSub(std::string_view subject, std::string_view queue,
                   std::string_view sid, std::string_view raw) {
  if (Logger::Global().trace_enabled()) Trace("<<-", "SUB", raw);
  if (!SubscribeAllowed(subject, queue, sid)) return true;
  if (SubsAtLimit()) [[unlikely]] {
    MaxSubsExceeded();
    return true;
  }
  auto [it, inserted] = subs_.try_emplace(std::string(sid));
  if (inserted) {
    auto sub = std::make_shared<ClientSub>();
    sub->subject = std::string(subject);
    sub->queue = std::string(queue);
    sub->sid = std::string(sid);
    sub->client = shared_from_this();
    sub->account = account_;
    if (!account_->sublist().Insert(sub).ok()) {
      subs_.erase(it);
      SendErr(kErrInvalidSubject);
      return true;
    }
    if (!account_->stream_imports().empty()) AddShadows(sub);
    it->second = std::move(sub);
  }
  if (opts_.verbose) SendOk();
  return true;
}

bool Client::OnUnsub(std::string_view sid, std::optional<int64_t> max,
                     std::string_view raw) {
  if (Logger::Global().trace_enabled()) Trace("<<-", "UNSUB", raw);
  // Debian's abseil has its own string_view type (not std's).
  auto it = subs_.find(absl::string_view(sid.data(), sid.size()));
  if (it != subs_.end()) {
    const std::shared_ptr<ClientSub>& sub = it->second;
    if (max.has_value() && *max > 0 &&
        *max > sub->delivered.load(std::memory_order_relaxed)) {
      sub->max.store(*max, std::memory_order_relaxed);
    } else {
      Unsubscribe(sub);
      subs_.erase(it);
    }
  }
  if (opts_.verbose) SendOk();
  return true;
}

void Client::Unsubscribe(const std::shared_ptr<ClientSub>& sub) {
  sub->closed.store(true, std::memory_order_relaxed);
  (void)sub->account->sublist().Remove(sub);
  RemoveShadows(*sub);
}

void Client::RemoveAllSubscriptions() {
  if (subs_.empty()) return;
  std::vector<SubscriptionPtr> batch;
  batch.reserve(subs_.size());
  for (auto& [sid, sub] : subs_) {
    sub->closed.store(true, std::memory_order_relaxed);
    batch.push_back(sub);
    RemoveShadows(*sub);
  }
  // Every subscription is in account_: the account never changes while
  // the connection has any (Authenticate).
  account_->sublist().RemoveBatch(batch);
  // Breaks the client <-> subscription cycle.
  for (auto& [sid, sub] : subs_) sub->client.reset();
  subs_.clear();
}

bool Client::OnPing() {
  if (Logger::Global().trace_enabled()) Trace("<<-", "PING", "");
  SendProto(kPong);
  last_ping_in_ = worker_.loop().Now();
  // After the first PONG to a client that takes asynchronous INFO, as the
  // reference: an INFO with its own max_payload when its account's differs
  // from the server's.
  if (connect_received_ && !first_pong_sent_) {
    first_pong_sent_ = true;
    if (opts_.protocol >= 1 && max_payload_ != options().max_payload) {
      SendProto(worker_.config().AsyncInfo(cid_, conn_->peer_ip(), max_payload_));
    }
  }
  return true;
}

bool Client::OnPong() {
  if (Logger::Global().trace_enabled()) Trace("<<-", "PONG", "");
  pings_out_ = 0;
  rtt_measured_ = true;
  if (ping_sent_ != absl::InfinitePast()) {
    rtt_ = absl::Now() - ping_sent_;
    ping_sent_ = absl::InfinitePast();
  }
  return true;
}

bool Client::OnOk() { return true; }

bool Client::OnErr(std::string_view text) {
  // The reference closes a client that sends -ERR.
  Logger::Global().Error("{}Client Error {}", LogPrefix(), text);
  Close(CloseReason::kParseError, /*flush=*/true);
  return false;
}

bool Client::OnInfo(std::string_view json) {
  // Clients have no business sending INFO; the reference ignores it.
  return true;
}

// ---------------------------------------------------------------------------
// Writing

void Client::SendProto(std::string_view bytes) {
  // Like the reference, INFO and +OK are not traced.
  if (Logger::Global().trace_enabled() && bytes != kOk &&
      !bytes.starts_with("INFO ")) {
    Trace("->>", "", bytes.substr(0, bytes.size() - kCrlf.size()));
  }
  // Protocol replies are never refused for size: max_pending applies to
  // messages (the reference queues its own protocol unconditionally).
  if (out_.Append({bytes}, 0) == Outbound::AppendResult::kQueuedNeedsFlush) {
    worker_.ScheduleFlush(shared_from_this());
  }
}

void Client::SendLameDuckInfo() {
  if (state_ != State::kOpen || opts_.protocol < 1 ||
      last_ping_in_ == absl::InfinitePast()) {
    return;
  }
  SendProto(worker_.config().LameDuckInfo(cid_, conn_->peer_ip(), max_payload_));
}

void Client::SendOk() { SendProto(kOk); }

void Client::SendErr(std::string_view text) {
  SendProto(fmt::format("-ERR '{}'\r\n", text));
}

void Client::SendErrAndClose(std::string_view text, CloseReason reason) {
  SendErr(text);
  Close(reason, /*flush=*/true);
}

void Client::Flush() {
  if (conn_ == nullptr || state_ == State::kClosed) return;
  if (conn_->write_in_flight()) return;
  if (tls_ != nullptr) [[unlikely]] {
    FlushTls();
    return;
  }
  Outbound::Taken taken;
  if (!out_.TakeForWrite(&iov_, &taken)) {
    if (state_ == State::kClosing) {
      // Everything that was queued before closing has been written.
      conn_->Close(absl::OkStatus());
    }
    return;
  }
  CountWritten(taken);
  write_started_ = worker_.loop().Now();
  conn_->Write(iov_);
}

void Client::CountWritten(const Outbound::Taken& taken) {
  // Counted once per write rather than per delivery: publishers on other
  // threads would otherwise contend on these two counters for every message.
  if (taken.msgs > 0) {
    out_msgs_.fetch_add(taken.msgs, std::memory_order_relaxed);
    out_bytes_.fetch_add(taken.payload_bytes, std::memory_order_relaxed);
  }
}

void Client::OnWriteDone(absl::Status status) {
  out_.WriteDone();  // a no-op when only TLS handshake bytes were written
  tls_out_.clear();
  write_started_ = absl::InfinitePast();
  if (!status.ok()) {
    if (state_ == State::kOpen) {
      Logger::Global().Debug("{}Error writing: {}", LogPrefix(), std::string(status.message()));
    }
    Close(CloseReason::kWriteError, /*flush=*/false);
    return;
  }
  Flush();
}

// ---------------------------------------------------------------------------
// Timers

bool Client::WriteDeadlineExceeded(absl::Time now) const {
  const absl::Duration deadline = options().write_deadline;
  return state_ == State::kOpen && write_started_ != absl::InfinitePast() &&
         deadline > absl::ZeroDuration() && now - write_started_ > deadline;
}

void Client::CloseWriteDeadlineExceeded() {
  Logger::Global().Notice(
      "{}Slow Consumer Detected: WriteDeadline of {} exceeded with {} chunks of "
      "{} total bytes.",
      LogPrefix(), FormatGoDuration(options().write_deadline),
      iov_.size(), out_.pending_bytes());
  Close(CloseReason::kSlowConsumerWriteDeadline, /*flush=*/false);
}

void Client::ArmPingTimer(bool first) {
  absl::Duration d = options().ping_interval;
  if (first) {
    // As the reference: the first PING comes early (it measures the round
    // trip), randomized by up to 20% so that clients connecting together
    // are not pinged together.
    d = std::min(d, kFirstPingInterval);
    const int64_t jitter_ns = absl::ToInt64Nanoseconds(d / 5);
    if (jitter_ns > 0) d += absl::Nanoseconds(worker_.NextRandom() % jitter_ns);
  }
  std::weak_ptr<Client> weak = weak_from_this();
  ping_timer_ = worker_.loop().AddTimer(d, [weak] {
    if (auto self = weak.lock()) self->OnPingTimer();
  });
}

void Client::OnPingTimer() {
  ping_timer_ = 0;
  if (state_ != State::kOpen) return;
  const absl::Time now = worker_.loop().Now();
  const absl::Duration interval = options().ping_interval;
  // Like the reference: skip the PING when the client was recently active,
  // except until a first round trip has been measured.
  const bool recently_active =
      now - last_activity_ < interval || now - last_ping_in_ < interval;
  if (!recently_active || !rtt_measured_) {
    if (pings_out_ + 1 > options().max_pings_out) {
      Logger::Global().Debug("{}Stale Client Connection - Closing", LogPrefix());
      SendErrAndClose(kErrStaleConnection, CloseReason::kStaleConnection);
      return;
    }
    ++pings_out_;
    if (ping_sent_ == absl::InfinitePast()) ping_sent_ = absl::Now();
    SendProto(kPing);
  }
  ArmPingTimer(/*first=*/false);
}

void Client::BeginStall() {
  std::shared_ptr<Client> sub = std::move(stall_candidate_);
  // Already stalled: epoll still reads a hung-up connection while paused.
  if (state_ != State::kOpen || conn_ == nullptr || stalled_on_ != nullptr) return;
  const int64_t max_pending = options().max_pending;
  const int64_t pending = sub->out_.pending_bytes();
  if (max_pending <= 0 || pending <= max_pending / 2) return;  // drained meanwhile
  if (Logger::Global().debug_enabled()) {
    Logger::Global().Debug("{}Stalling fast producer for cid:{} ({} of {} bytes pending)",
                           LogPrefix(), sub->cid_, pending, max_pending);
  }
  stalled_on_ = std::move(sub);
  stall_deadline_ = worker_.loop().Now() + StallDuration(pending, max_pending);
  conn_->PauseReading();
  ArmStallTimer();
}

void Client::ArmStallTimer() {
  std::weak_ptr<Client> weak = weak_from_this();
  stall_timer_ = worker_.loop().AddTimer(kStallPollInterval, [weak] {
    if (auto self = weak.lock()) self->OnStallTimer();
  });
}

void Client::OnStallTimer() {
  stall_timer_ = 0;
  if (stalled_on_ == nullptr) return;
  const int64_t max_pending = options().max_pending;
  // A closing subscriber has dropped its queue or soon will: no reason to
  // wait for it.
  const bool still_full = stalled_on_->out_.pending_bytes() > max_pending / 2 &&
                          !stalled_on_->close_requested_.load(std::memory_order_relaxed);
  if (still_full && worker_.loop().Now() < stall_deadline_) {
    ArmStallTimer();
    return;
  }
  if (still_full && Logger::Global().debug_enabled()) {
    Logger::Global().Debug("{}Timed out of fast producer stall", LogPrefix());
  }
  stalled_on_.reset();
  if (conn_ != nullptr && state_ == State::kOpen) conn_->ResumeReading();
}

void Client::OnAuthTimeout() {
  auth_timer_ = 0;
  if (state_ != State::kOpen || connect_received_) return;
  Logger::Global().Debug("{}{}", LogPrefix(), kErrAuthTimeout);
  SendErrAndClose(kErrAuthTimeout, CloseReason::kAuthenticationTimeout);
}

// ---------------------------------------------------------------------------
// Closing

void Client::CloseAsync(CloseReason reason) {
  if (close_requested_.exchange(true)) return;
  std::weak_ptr<Client> weak = weak_from_this();
  worker_.loop().Post([weak, reason] {
    if (auto self = weak.lock()) self->Close(reason, /*flush=*/false);
  });
}

void Client::Close(CloseReason reason, bool flush) {
  if (state_ == State::kClosed || conn_ == nullptr) return;
  if (state_ == State::kClosing) {
    if (!flush) conn_->Close(absl::OkStatus());
    return;
  }
  state_ = State::kClosing;
  close_reason_ = reason;
  close_requested_.store(true);
  if (Logger::Global().debug_enabled()) {
    Logger::Global().Debug("{}Client connection closed: {}", LogPrefix(),
                CloseReasonName(reason));
  }
  RemoveAllSubscriptions();
  // A stalled client stays paused while it closes: nothing is read anyway.
  stall_candidate_.reset();
  stalled_on_.reset();
  io::EventLoop& loop = worker_.loop();
  for (io::TimerId* t : {&ping_timer_, &auth_timer_, &stall_timer_, &tls_timer_}) {
    if (*t != 0) loop.CancelTimer(*t);
    *t = 0;
  }
  out_.Close(/*drop_queued=*/!flush);
  if (!flush) {
    conn_->Close(absl::OkStatus());
    return;
  }
  // Write what is queued (the final -ERR), then close; a peer that does not
  // read cannot hold the connection open for longer than the timeout.
  std::weak_ptr<Client> weak = weak_from_this();
  flush_close_timer_ = loop.AddTimer(kFlushOnCloseTimeout, [weak] {
    if (auto self = weak.lock()) {
      self->flush_close_timer_ = 0;
      if (self->conn_ != nullptr && self->state_ == State::kClosing) {
        self->conn_->Close(absl::OkStatus());
      }
    }
  });
  Flush();
}

void Client::OnClosed(absl::Status reason) {
  conn_ = nullptr;  // the loop has already released the connection
  if (tls_ != nullptr) NoteTlsClosed();
  ReportClosed(reason);  // before the subscriptions are dropped
  if (state_ == State::kOpen && Logger::Global().debug_enabled()) {
    Logger::Global().Debug("{}Client connection closed: {}", LogPrefix(),
                reason.ok() ? std::string("Client Closed") : std::string(reason.message()));
  }
  state_ = State::kClosed;
  close_requested_.store(true);
  RemoveAllSubscriptions();
  stall_candidate_.reset();
  stalled_on_.reset();
  io::EventLoop& loop = worker_.loop();
  for (io::TimerId* t :
       {&ping_timer_, &auth_timer_, &flush_close_timer_, &stall_timer_, &tls_timer_}) {
    if (*t != 0) loop.CancelTimer(*t);
    *t = 0;
  }
  out_.Close(/*drop_queued=*/true);
  if (admitted_) server_.ReleaseConnection();
  admitted_ = false;
  if (counted_in_ != nullptr) counted_in_->RemoveConnection();
  counted_in_ = nullptr;
  worker_.RemoveClient(cid_);  // may destroy *this: nothing after it
}

// ---------------------------------------------------------------------------
// Logging

void Client::TracePayload(std::string_view payload) const {
  const int max_len = options().max_traced_msg_len;
  if (max_len > 0 && payload.size() > static_cast<size_t>(max_len)) {
    const std::string q = GoQuote(payload.substr(0, max_len));
    Logger::Global().Trace("{}<<- MSG_PAYLOAD: [\"{}...\"]", LogPrefix(),
                           std::string_view(q).substr(1, q.size() - 2));
  } else {
    Logger::Global().Trace("{}<<- MSG_PAYLOAD: [{}]", LogPrefix(), GoQuote(payload));
  }
}

std::string Client::LogPrefix() const {
  // The reference's prefix: address, client id, and the name the client
  // gave in CONNECT.
  if (opts_.name.empty()) return fmt::format("{} - cid:{} - ", peer_address_, cid_);
  return fmt::format("{} - cid:{} - \"{}\" - ", peer_address_, cid_, opts_.name);
}

void Client::Trace(std::string_view direction, std::string_view op,
                   std::string_view args) const {
  const int max_len = options().max_traced_msg_len;
  std::string_view shown = args;
  bool truncated = false;
  if (max_len > 0 && shown.size() > static_cast<size_t>(max_len)) {
    shown = shown.substr(0, max_len);
    truncated = true;
  }
  const std::string_view sep = op.empty() || shown.empty() ? "" : " ";
  Logger::Global().Trace("{}{} [{}{}{}{}]", LogPrefix(), direction, op, sep,
                         shown, truncated ? "..." : "");
}

}  // namespace natsd
