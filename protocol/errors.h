// Texts of the -ERR replies of the NATS client and route protocols, exactly
// as nats-server 2.9.10 sends them. On the wire each is framed as
// `-ERR '<text>'\r\n` (see FormatErr).
//
// Which of them close the connection is decided by the caller, not the text;
// the comment on each constant says what the reference does after sending it.
//
//   conn.Send(natsd::FormatErr(natsd::kErrMaxPayload));
#ifndef NATSD_PROTOCOL_ERRORS_H_
#define NATSD_PROTOCOL_ERRORS_H_

#include <string>
#include <string_view>

namespace natsd {

// Parser errors (see ParseStatus): all three close the connection.
inline constexpr std::string_view kErrUnknownOp = "Unknown Protocol Operation";
inline constexpr std::string_view kErrMaxControlLine = "maximum control line exceeded";
inline constexpr std::string_view kErrMaxPayload = "Maximum Payload Violation";

// Subject validation when the client is pedantic (PUB) or always (SUB): the
// connection stays open. For PUB the message is still published.
inline constexpr std::string_view kErrInvalidPublishSubject = "Invalid Publish Subject";
inline constexpr std::string_view kErrInvalidSubject = "Invalid Subject";

// Authentication: all close the connection.
inline constexpr std::string_view kErrAuthViolation = "Authorization Violation";
inline constexpr std::string_view kErrAuthTimeout = "Authentication Timeout";
inline constexpr std::string_view kErrAuthExpired = "User Authentication Expired";
inline constexpr std::string_view kErrAccountAuthExpired = "Account Authentication Expired";
inline constexpr std::string_view kErrAuthRevoked = "User Authentication Revoked";
inline constexpr std::string_view kErrFailedAccountRegistration = "Failed Account Registration";

// Limits. Connection limits close; kErrMaxSubs leaves the connection open
// (the SUB is simply not registered).
inline constexpr std::string_view kErrMaxConnections = "maximum connections exceeded";
inline constexpr std::string_view kErrMaxAccountConnections =
    "maximum account active connections exceeded";
inline constexpr std::string_view kErrMaxSubs = "maximum subscriptions exceeded";

// Sent after CONNECT is decoded; both close the connection.
inline constexpr std::string_view kErrBadClientProtocol = "invalid client protocol";
inline constexpr std::string_view kErrNoRespondersRequiresHeaders =
    "no responders requires headers support";

// Connection lifecycle; all close the connection.
inline constexpr std::string_view kErrStaleConnection = "Stale Connection";
inline constexpr std::string_view kErrSecureConnRequired = "Secure Connection - TLS Required";
inline constexpr std::string_view kErrRoutePort = "attempted to connect to route port";
inline constexpr std::string_view kErrThrottled =
    "Connection throttling is active. Please try again later.";

// Route port: an RS+/RS- that cannot be parsed (connection stays open).
inline constexpr std::string_view kErrInvalidSubscription = "Invalid Subscription";

// Permission violations: fmt format strings, the connection stays open. The
// reference quotes with Go's %q; subjects are printable ASCII in practice, so
// plain double quotes produce the same bytes.
inline constexpr std::string_view kErrPermPublishFmt = "Permissions Violation for Publish to \"{}\"";
inline constexpr std::string_view kErrPermPublishReplyFmt =
    "Permissions Violation for Publish with Reply of \"{}\"";
inline constexpr std::string_view kErrPermSubscribeFmt =
    "Permissions Violation for Subscription to \"{}\"";
inline constexpr std::string_view kErrPermSubscribeQueueFmt =
    "Permissions Violation for Subscription to \"{}\" using queue \"{}\"";
inline constexpr std::string_view kErrPermSubscribeTokensFmt =
    "Permissions Violation for Subscription to \"{}\", too many tokens";
// Sent when a permissions reload removes an existing subscription.
inline constexpr std::string_view kErrPermSubscribeSidFmt =
    "Permissions Violation for Subscription to \"{}\" (sid \"{}\")";

// Route CONNECT rejections (close the route).
inline constexpr std::string_view kErrRouteFromGatewayFmt =
    "Rejecting connection from gateway \"{}\" on the Route port";
inline constexpr std::string_view kErrClusterNameMismatchFmt =
    "Rejecting connection, cluster name \"{}\" does not match \"{}\"";

// Returns the wire form `-ERR '<text>'\r\n`.
inline std::string FormatErr(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 9);
  out.append("-ERR '").append(text).append("'\r\n");
  return out;
}

}  // namespace natsd

#endif  // NATSD_PROTOCOL_ERRORS_H_
