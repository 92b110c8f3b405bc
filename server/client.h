// Client: one client connection speaking the NATS text protocol.
//
// A Client lives on the I/O thread (Worker) that accepted it. It parses what
// the peer sends, keeps the peer's subscriptions, and routes its publications:
// for each matching subscription it appends a MSG/HMSG frame to the
// subscriber's Outbound (whatever thread that subscriber lives on) and asks
// the subscriber's worker, once per read batch, to flush it.
//
// Ownership: the Worker owns its clients through shared_ptr; each ClientSub
// also holds its client, so a subscription found in a match result keeps the
// client object alive while another thread delivers to it. The cycle is broken
// when the client closes (it drops its subscriptions).
//
// Back-pressure, as the reference's producer stall: when a delivery leaves a
// subscriber's Outbound above max_pending/2, the publishing client pauses
// reading its connection at the end of that read and polls, on its own loop,
// until the subscriber is back at or below half or the stall time (100 ms to
// 1 s, growing with the overrun) has passed. No I/O thread ever blocks.
//
// Thread-safety: everything is loop-thread only, except the methods marked
// "any thread" (delivery from publishers on other workers). Deliver runs on
// the producer's thread and touches the producer's stall_candidate_ only;
// the stall fields belong to the producer's loop thread.
#ifndef NATSD_SERVER_CLIENT_H_
#define NATSD_SERVER_CLIENT_H_

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "protocol/connect.h"
#include "protocol/parser.h"
#include "protocol/sublist.h"
#include "server/io/event_loop.h"
#include "server/outbound.h"
#include "server/permissions.h"

namespace natsd {

class Account;
struct ConnInfo;
struct Options;
struct ServerConfig;
struct ServiceImport;
struct StreamImport;
class TlsSession;
class Client;
class Server;
class Worker;

// A subscription in an account's sublist: a client's own (SUB), or one
// that carries messages across accounts (client_imports.cc). Delivery
// counters are atomic because publishers on several threads deliver to the
// same subscription.
struct ClientSub final : Subscription {
  enum class Kind : uint8_t {
    kClient,           // SUB: deliver to `client`
    kStreamImport,     // `origin`'s shadow in an exporting account
    kServiceImport,    // forwards requests to the exporter of `service_import`
    kServiceResponse,  // "_R_.<prefix>.>": routes responses back to importers
  };
  Kind kind = Kind::kClient;
  Account* account = nullptr;  // whose sublist holds this subscription
  std::shared_ptr<Client> client;  // kClient only
  std::string sid;
  std::atomic<int64_t> max{0};  // auto-unsubscribe after this many; 0 = none
  std::atomic<int64_t> delivered{0};
  std::atomic<bool> closed{false};
  // kStreamImport: the client's subscription this one delivers to, and the
  // import that renames the subject.
  std::shared_ptr<ClientSub> origin;
  const StreamImport* stream_import = nullptr;
  const ServiceImport* service_import = nullptr;  // kServiceImport
  // kClient: this subscription's shadows in the accounts it imports streams
  // from (the client's loop thread only); cleared when it is removed.
  std::vector<std::shared_ptr<ClientSub>> shadows;
};

// Why a connection was closed (nats-server's ClosedState names, for logs and
// later for /connz).
enum class CloseReason {
  kClientClosed,
  kAuthenticationTimeout,
  kAuthenticationViolation,
  kTlsHandshakeError,
  kSlowConsumerPendingBytes,
  kSlowConsumerWriteDeadline,
  kWriteError,
  kReadError,
  kParseError,
  kStaleConnection,
  kProtocolViolation,
  kBadClientProtocolVersion,
  kMaxPayloadExceeded,
  kMaxControlLineExceeded,
  kMaxConnectionsExceeded,
  kMaxAccountConnectionsExceeded,
  kMaxSubscriptionsExceeded,
  kNoRespondersRequiresHeaders,
  kServerShutdown,
};
std::string_view CloseReasonName(CloseReason reason);

class Client final : public io::ConnectionHandler,
                     private ParserHandler,
                     public std::enable_shared_from_this<Client> {
 public:
  Client(Server& server, Worker& worker, uint64_t cid);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Takes the connection over: sends INFO, arms the timers.
  void Start(io::Connection* conn);

  uint64_t cid() const { return cid_; }
  Worker& worker() const { return worker_; }

  // Any thread. Queues one message for `sub` (a subscription of this client)
  // and records this client in `producer`'s worker for a batched flush.
  // Returns false when the message was not queued (echo off, closing, over
  // the auto-unsubscribe max, slow consumer).
  struct Message {
    std::string_view subject;
    std::string_view reply;
    std::string_view header_size;  // as the publisher sent it; empty: PUB
    std::string_view total_size;   // as the publisher sent it
    std::string_view payload;      // headers + body, no trailing CRLF
    int64_t header_len = 0;        // parsed header_size; 0 for PUB
  };
  bool Deliver(ClientSub& sub, const Message& msg, Client& producer);

  // Loop thread: writes whatever is queued if no write is in flight.
  void Flush();

  // Loop thread: whether a write has been in flight for longer than the
  // write deadline; if so, CloseWriteDeadlineExceeded() drops the client as
  // a slow consumer.
  bool WriteDeadlineExceeded(absl::Time now) const;
  void CloseWriteDeadlineExceeded();

  // Any thread: closes the connection on its own loop thread.
  void CloseAsync(CloseReason reason);

  // Loop thread: closes now. With flush, what is queued (a final -ERR) is
  // written first, within a bounded time.
  void Close(CloseReason reason, bool flush);

  // Loop thread, lame duck mode: sends the INFO with "ldm":true if this
  // client takes asynchronous INFO, as the reference decides it: CONNECT
  // protocol >= 1 and its first PING already answered.
  void SendLameDuckInfo();

  // Loop thread, config reload (the worker already holds the new
  // configuration): takes on the new limits and, when `auth_changed`,
  // authorizes the connection again with its CONNECT under the new rules,
  // as the reference does: a client whose listed user or NKEY is gone is
  // closed; one no longer allowed in gets 'Authorization Violation' and is
  // closed; otherwise it takes on its
  // user's new permissions and loses, with a Permissions Violation each,
  // the subscriptions they no longer allow (client_auth.cc).
  // `before` is the configuration the connection was admitted under.
  void ApplyReload(const ServerConfig& before, bool auth_changed);
  // Loop thread: refuses or drops the connection with the reference's
  // 'maximum connections exceeded'.
  void CloseMaxConnectionsExceeded();

  // Loop thread: a snapshot for monitoring (client_info.cc); the
  // subscription list only when `with_subs`.
  void Describe(ConnInfo* info, bool with_subs) const;

 private:
  enum class State { kNew, kOpen, kClosing, kClosed };

  // io::ConnectionHandler
  void OnRead(std::string_view data) override;
  // Feeds `data` (plaintext) to the parser and acts on its verdict; false
  // once the connection is closing.
  bool Parse(std::string_view data);
  void OnWriteDone(absl::Status status) override;
  void OnClosed(absl::Status reason) override;

  // ParserHandler
  bool OnConnect(std::string_view json) override;
  bool OnPubArgs(const PubArgs& args) override;
  bool OnMsg(const PubArgs& args, std::string_view payload) override;
  bool OnSub(std::string_view subject, std::string_view queue,
             std::string_view sid, std::string_view raw) override;
  bool OnUnsub(std::string_view sid, std::optional<int64_t> max,
               std::string_view raw) override;
  bool OnPing() override;
  bool OnPong() override;
  bool OnOk() override;
  bool OnErr(std::string_view text) override;
  bool OnInfo(std::string_view json) override;

  // The options of this client's configuration generation (loop thread).
  const Options& options() const;
  // Logs the reference's authorization error, sends 'Authorization
  // Violation' and closes.
  void AuthViolation();

  // Adds a write's messages and bytes to this client's counters.
  void CountWritten(const Outbound::Taken& taken);
  // Queues protocol bytes for this client and schedules a flush at the end
  // of the current batch.
  void SendProto(std::string_view bytes);
  void SendOk();
  void SendErr(std::string_view text);
  // Sends -ERR and closes (flushing the error first).
  void SendErrAndClose(std::string_view text, CloseReason reason);
  // Checks the CONNECT's credentials and takes on the user's permissions.
  bool Authenticate(const ConnectOptions& connect);
  // Once authenticated: counts the connection in its account (moving it
  // from the one it was counted in, if any) and takes on the account's
  // per-connection limits combined with the server's (client_auth.cc).
  // false: the account has max_connections already; nothing is counted.
  bool JoinAccount();
  // Sends 'maximum account active connections exceeded' and closes.
  void CloseMaxAccountConnectionsExceeded();
  // Whether one more subscription is over this connection's limit.
  bool SubsAtLimit() const {
    return max_subs_ != -1 && static_cast<int64_t>(subs_.size()) >= max_subs_;
  }
  // Logs (at most every 2 s per account) and sends 'maximum subscriptions
  // exceeded'.
  void MaxSubsExceeded();
  // Permission hooks (client_auth.cc). PublishAllowed is inline so that a
  // client without permissions pays two compares per message; both send
  // the violation and return false when the operation must be dropped.
  bool PublishAllowed(const PubArgs& args) {
    return (perms_.load(std::memory_order_relaxed) == nullptr && args.reply.empty() &&
            !args.subject.starts_with('_')) ||
           CheckPublish(args);
  }
  bool CheckPublish(const PubArgs& args);
  bool SubscribeAllowed(std::string_view subject, std::string_view queue,
                        std::string_view sid);
  void SetPermissions(const std::shared_ptr<const Permissions>& perms);
  // "User \"name\"" / "Nkey \"U...\"", as the reference names the client in
  // violation logs.
  std::string AuthUserForLog() const;
  void Unsubscribe(const std::shared_ptr<ClientSub>& sub);
  void RemoveAllSubscriptions();
  // Routes one publication to every matching subscription; returns whether
  // at least one subscriber got it.
  bool RouteMessage(const Message& msg);
  // Delivers to every subscription of `result`; `hops` counts the imports
  // the message has crossed.
  bool DeliverResult(const SublistResult& result, const Message& msg, int hops);
  bool DeliverTo(ClientSub& sub, const Message& msg, int hops) {
    if (sub.kind == ClientSub::Kind::kClient) [[likely]] {
      return sub.client->Deliver(sub, msg, *this);
    }
    return RouteImport(sub, msg, hops);
  }
  // Cross-account routing (client_imports.cc): a shadow delivers renamed,
  // a service import forwards the request, a response goes back.
  bool RouteImport(ClientSub& sub, const Message& msg, int hops);
  bool ForwardRequest(const ServiceImport& si, const Message& msg, int hops);
  bool ForwardResponse(Account& exporter, const Message& msg, int hops);
  // The shadows of `sub` in the accounts this client's account imports
  // streams from, and their removal (client_imports.cc).
  void AddShadows(const std::shared_ptr<ClientSub>& sub);
  static void RemoveShadows(ClientSub& sub);
  void SendNoResponders(std::string_view reply);
  void ArmPingTimer(bool first);
  // Producer stall (see the class comment): at the end of OnRead, pauses
  // reading if stall_candidate_ is still above half of max_pending.
  void BeginStall();
  void ArmStallTimer();
  // Resumes reading once the subscriber has drained or the stall timed out.
  void OnStallTimer();
  void OnPingTimer();
  void OnAuthTimeout();
  void ArmAuthTimer();

  // TLS (client_tls.cc). After the plaintext INFO, the client must complete
  // the handshake within the TLS timeout; everything after it is encrypted.
  void StartTls();
  void OnTlsRead(std::string_view ciphertext);
  void OnTlsHandshakeComplete();
  void OnTlsTimeout();
  // Flush() over TLS: encrypts what is queued and writes the ciphertext.
  void FlushTls();
  // From OnClosed: a client gone before finishing the handshake failed it.
  void NoteTlsClosed();
  void Trace(std::string_view direction, std::string_view op,
             std::string_view args) const;
  void TracePayload(std::string_view payload) const;
  std::string LogPrefix() const;
  // From OnClosed: adds this client's counters to its worker's totals and
  // gives the monitor its final snapshot (client_info.cc).
  void ReportClosed(const absl::Status& status);

  Server& server_;
  Worker& worker_;
  const uint64_t cid_;
  Account* account_;  // set by authentication; "$G" until then
  MatchCache* match_cache_;  // the worker's cache for account_
  io::Connection* conn_ = nullptr;  // null once closed: the loop frees it
  std::string peer_address_;        // "ip:port", kept for logs after close
  State state_ = State::kNew;

  Parser parser_;
  ConnectOptions opts_;  // the peer's CONNECT applied over the defaults
  bool connect_received_ = false;
  bool auth_required_ = false;
  bool admitted_ = false;  // counted against max_connections
  // The account this connection is counted in (its max_connections), once
  // the CONNECT is accepted; null before.
  Account* counted_in_ = nullptr;
  // This connection's limits: its account's and the server's, the lower
  // wins; -1 is none (JoinAccount).
  int64_t max_payload_ = -1;
  int64_t max_subs_ = -1;
  bool first_pong_sent_ = false;  // the INFO check after CONNECT is done

  absl::flat_hash_map<std::string, std::shared_ptr<ClientSub>> subs_;

  Outbound out_;
  std::vector<iovec> iov_;  // describes the write in flight
  absl::Time write_started_ = absl::InfinitePast();
  std::atomic<bool> close_requested_{false};

  io::TimerId ping_timer_ = 0;
  // A subscriber that a delivery of the current read left above half of
  // max_pending (set by Deliver on this client's thread), and the one this
  // client is paused for. Both held so the subscriber's Outbound can be
  // polled; released when the stall ends or this client closes.
  std::shared_ptr<Client> stall_candidate_;
  std::shared_ptr<Client> stalled_on_;
  io::TimerId stall_timer_ = 0;
  absl::Time stall_deadline_;
  io::TimerId auth_timer_ = 0;
  io::TimerId flush_close_timer_ = 0;
  // TLS: the session (null without TLS), the ciphertext being written, and
  // the handshake deadline.
  std::unique_ptr<TlsSession> tls_;
  std::string tls_out_;
  io::TimerId tls_timer_ = 0;
  int pings_out_ = 0;
  bool rtt_measured_ = false;
  absl::Time last_activity_;
  absl::Time last_ping_in_ = absl::InfinitePast();

  // Statistics (monitoring reads them later).
  uint64_t in_msgs_ = 0;
  uint64_t in_bytes_ = 0;
  std::atomic<uint64_t> out_msgs_{0};
  std::atomic<uint64_t> out_bytes_{0};

  // Authentication and permissions (client_auth.cc).
  std::string nonce_;  // sent in INFO when NKEY users exist
  std::string auth_user_;  // the authenticated user name or nkey
  // The user's permissions for this connection; null: unrestricted.
  // Publishers on other threads read it in Deliver, so a re-authenticating
  // CONNECT switches the pointer but never frees an object it pointed to:
  // perms_owned_ keeps one per distinct user this connection has been.
  std::atomic<ClientPermissions*> perms_{nullptr};
  std::vector<std::unique_ptr<ClientPermissions>> perms_owned_;
  const absl::Time start_ = absl::Now();  // the client is made at accept
  std::optional<CloseReason> close_reason_;  // set by the first Close()
  absl::Time ping_sent_ = absl::InfinitePast();  // our PING awaiting PONG
  absl::Duration rtt_;  // last measured PING/PONG round trip
};

}  // namespace natsd

#endif  // NATSD_SERVER_CLIENT_H_
