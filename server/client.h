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
// Thread-safety: everything is loop-thread only, except the methods marked
// "any thread" (delivery from publishers on other workers).
#ifndef NATSD_SERVER_CLIENT_H_
#define NATSD_SERVER_CLIENT_H_

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <memory>
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

namespace natsd {

class Account;
class Client;
class Server;
class Worker;

// A subscription made by a client (SUB). Delivery counters are atomic because
// publishers on several threads deliver to the same subscription.
struct ClientSub final : Subscription {
  std::shared_ptr<Client> client;
  std::string sid;
  std::atomic<int64_t> max{0};  // auto-unsubscribe after this many; 0 = none
  std::atomic<int64_t> delivered{0};
  std::atomic<bool> closed{false};
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

 private:
  enum class State { kNew, kOpen, kClosing, kClosed };

  // io::ConnectionHandler
  void OnRead(std::string_view data) override;
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

  // Queues protocol bytes for this client and schedules a flush at the end
  // of the current batch.
  void SendProto(std::string_view bytes);
  void SendOk();
  void SendErr(std::string_view text);
  // Sends -ERR and closes (flushing the error first).
  void SendErrAndClose(std::string_view text, CloseReason reason);
  bool Authenticate(const ConnectOptions& connect) const;
  void Unsubscribe(const std::shared_ptr<ClientSub>& sub);
  void RemoveAllSubscriptions();
  // Routes one publication to every matching subscription; returns whether
  // at least one subscriber got it.
  bool RouteMessage(const Message& msg);
  void SendNoResponders(std::string_view reply);
  void ArmPingTimer(bool first);
  void OnPingTimer();
  void OnAuthTimeout();
  void Trace(std::string_view direction, std::string_view op,
             std::string_view args) const;
  std::string LogPrefix() const;

  Server& server_;
  Worker& worker_;
  const uint64_t cid_;
  Account* account_;
  io::Connection* conn_ = nullptr;
  State state_ = State::kNew;

  Parser parser_;
  ConnectOptions opts_;  // the peer's CONNECT applied over the defaults
  bool connect_received_ = false;
  bool auth_required_ = false;
  bool admitted_ = false;  // counted against max_connections

  absl::flat_hash_map<std::string, std::shared_ptr<ClientSub>> subs_;

  Outbound out_;
  std::vector<iovec> iov_;  // describes the write in flight
  absl::Time write_started_ = absl::InfinitePast();
  std::atomic<bool> close_requested_{false};

  io::TimerId ping_timer_ = 0;
  io::TimerId auth_timer_ = 0;
  io::TimerId flush_close_timer_ = 0;
  int pings_out_ = 0;
  bool rtt_measured_ = false;
  absl::Time last_activity_;
  absl::Time last_ping_in_ = absl::InfinitePast();

  // Statistics (monitoring reads them later).
  uint64_t in_msgs_ = 0;
  uint64_t in_bytes_ = 0;
  std::atomic<uint64_t> out_msgs_{0};
  std::atomic<uint64_t> out_bytes_{0};
};

}  // namespace natsd

#endif  // NATSD_SERVER_CLIENT_H_
