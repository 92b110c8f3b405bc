#include "server/logger.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace natsd {
namespace {

// Writes all of `data`, retrying on short writes and EINTR. Logging has
// nowhere to report its own failures, so errors are dropped.
void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string_view PlainLabel(LogLevel level) {
  switch (level) {
    case LogLevel::kFatal: return "[FTL] ";
    case LogLevel::kError: return "[ERR] ";
    case LogLevel::kWarn: return "[WRN] ";
    case LogLevel::kNotice: return "[INF] ";
    case LogLevel::kDebug: return "[DBG] ";
    case LogLevel::kTrace: return "[TRC] ";
  }
  return "";
}

std::string_view ColoredLabel(LogLevel level) {
  switch (level) {
    case LogLevel::kFatal: return "[\x1b[31mFTL\x1b[0m] ";
    case LogLevel::kError: return "[\x1b[31mERR\x1b[0m] ";
    case LogLevel::kWarn: return "[\x1b[0;93mWRN\x1b[0m] ";
    case LogLevel::kNotice: return "[\x1b[32mINF\x1b[0m] ";
    case LogLevel::kDebug: return "[\x1b[36mDBG\x1b[0m] ";
    case LogLevel::kTrace: return "[\x1b[33mTRC\x1b[0m] ";
  }
  return "";
}

// stderr or an append-only log file: "[pid] date time [LVL] message\n".
// Size-based rotation (log_size_limit) belongs in this class's Write.
class StreamSink : public LogSink {
 public:
  // Takes ownership of `fd` when `path` is non-empty (a log file).
  StreamSink(int fd, std::string path, bool logtime, bool colors)
      : fd_(fd), path_(std::move(path)), logtime_(logtime), colors_(colors),
        prefix_(fmt::format("[{}] ", ::getpid())) {}
  ~StreamSink() override {
    if (!path_.empty()) ::close(fd_);
  }

  static absl::StatusOr<int> OpenFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0660);
    if (fd < 0) {
      return absl::ErrnoToStatus(errno, fmt::format("error opening file: {}", path));
    }
    return fd;
  }

  void Write(LogLevel level, std::string_view message) override {
    std::string line = prefix_;
    if (logtime_) {
      line += absl::FormatTime("%Y/%m/%d %H:%M:%E6S ", absl::Now(), absl::LocalTimeZone());
    }
    line += colors_ ? ColoredLabel(level) : PlainLabel(level);
    line += message;
    line += '\n';
    WriteAll(fd_, line);
  }

  absl::Status Reopen() override {
    if (path_.empty()) {
      return absl::FailedPreconditionError("not a file logger");
    }
    absl::StatusOr<int> fd = OpenFile(path_);
    if (!fd.ok()) return fd.status();
    ::close(fd_);
    fd_ = *fd;
    return absl::OkStatus();
  }

 private:
  int fd_;
  const std::string path_;
  const bool logtime_;
  const bool colors_;
  const std::string prefix_;
};

// Local syslog through syslog(3), facility daemon, like nats-server.
class LocalSyslogSink : public LogSink {
 public:
  explicit LocalSyslogSink(std::string tag) : tag_(std::move(tag)) {
    // openlog keeps the pointer; tag_ lives as long as this sink. There is
    // no closelog(): it would reset the identity of a replacement sink, and
    // the syslog connection is process-wide anyway.
    ::openlog(tag_.c_str(), LOG_PID, LOG_DAEMON);
  }

  void Write(LogLevel level, std::string_view message) override {
    static constexpr int kPriority[] = {LOG_CRIT, LOG_ERR, LOG_WARNING,
                                        LOG_NOTICE, LOG_DEBUG, LOG_NOTICE};
    ::syslog(kPriority[static_cast<int>(level)], "%.*s",
             static_cast<int>(message.size()), message.data());
  }
  absl::Status Reopen() override {
    return absl::FailedPreconditionError("not a file logger");
  }

 private:
  const std::string tag_;
};

// Remote syslog over udp, tcp or a unix socket, in the RFC 3164 style that
// Go's log/syslog writes: "<pri>timestamp hostname tag[pid]: message".
class RemoteSyslogSink : public LogSink {
 public:
  static absl::StatusOr<std::unique_ptr<LogSink>> Dial(const std::string& url,
                                                       std::string tag) {
    size_t sep = url.find("://");
    std::string scheme = sep == std::string::npos ? "" : url.substr(0, sep);
    std::string rest = sep == std::string::npos ? url : url.substr(sep + 3);
    int fd = -1;
    if (scheme == "unix") {
      fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      if (rest.size() >= sizeof(addr.sun_path)) {
        ::close(fd);
        return absl::InvalidArgumentError(
            fmt::format("error connecting to syslog: path too long: {}", rest));
      }
      std::memcpy(addr.sun_path, rest.c_str(), rest.size() + 1);
      if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        int err = errno;
        if (fd >= 0) ::close(fd);
        return absl::ErrnoToStatus(err, fmt::format("error connecting to syslog: {}", url));
      }
    } else if (scheme == "udp" || scheme == "tcp") {
      size_t colon = rest.rfind(':');
      if (colon == std::string::npos) {
        return absl::InvalidArgumentError(
            fmt::format("error connecting to syslog: missing port in address {}", rest));
      }
      std::string host = rest.substr(0, colon);
      std::string port = rest.substr(colon + 1);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      addrinfo hints{};
      hints.ai_socktype = scheme == "udp" ? SOCK_DGRAM : SOCK_STREAM;
      addrinfo* res = nullptr;
      if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        return absl::UnavailableError(fmt::format("error connecting to syslog: {}: {}",
                                                  rest, ::gai_strerror(rc)));
      }
      int err = 0;
      for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && ::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
          err = errno;
          ::close(fd);
          fd = -1;
        }
      }
      ::freeaddrinfo(res);
      if (fd < 0) {
        return absl::ErrnoToStatus(err, fmt::format("error connecting to syslog: {}", url));
      }
    } else {
      return absl::InvalidArgumentError(
          fmt::format("error invalid network type: \"{}\"", scheme));
    }
    char hostname[256] = {};
    ::gethostname(hostname, sizeof(hostname) - 1);
    return std::unique_ptr<LogSink>(new RemoteSyslogSink(fd, std::move(tag), hostname));
  }

  ~RemoteSyslogSink() override { ::close(fd_); }

  void Write(LogLevel level, std::string_view message) override {
    // Severity only: Go dials with facility 0 (kern).
    static constexpr int kSeverity[] = {2, 3, 4, 5, 7, 5};
    std::string line = fmt::format(
        "<{}>{} {} {}[{}]: {}\n", kSeverity[static_cast<int>(level)],
        absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::LocalTimeZone()),
        hostname_, tag_, ::getpid(), message);
    // MSG_NOSIGNAL: a closed tcp peer must not kill the server with SIGPIPE.
    ::send(fd_, line.data(), line.size(), MSG_NOSIGNAL);
  }
  absl::Status Reopen() override {
    return absl::FailedPreconditionError("not a file logger");
  }

 private:
  RemoteSyslogSink(int fd, std::string tag, std::string hostname)
      : fd_(fd), tag_(std::move(tag)), hostname_(std::move(hostname)) {}

  const int fd_;
  const std::string tag_;
  const std::string hostname_;
};

std::unique_ptr<LogSink> StderrSink(bool logtime) {
  return std::make_unique<StreamSink>(STDERR_FILENO, "", logtime,
                                      ::isatty(STDERR_FILENO) == 1);
}

}  // namespace

LoggerConfig LoggerConfigFromOptions(const Options& opts, std::string_view syslog_tag) {
  LoggerConfig c;
  c.logtime = opts.logtime;
  c.debug = opts.debug;
  c.trace = opts.trace;
  c.log_file = opts.log_file;
  c.syslog = opts.syslog;
  c.remote_syslog = opts.remote_syslog;
  c.syslog_tag = std::string(syslog_tag);
  return c;
}

Logger::Logger() : sink_(StderrSink(true)) {}
Logger::~Logger() = default;

Logger& Logger::Global() {
  static Logger* logger = new Logger();  // never destroyed: used until exit
  return *logger;
}

absl::Status Logger::Configure(const LoggerConfig& config) {
  std::unique_ptr<LogSink> sink;
  if (!config.log_file.empty()) {
    absl::StatusOr<int> fd = StreamSink::OpenFile(config.log_file);
    if (!fd.ok()) return fd.status();
    sink = std::make_unique<StreamSink>(*fd, config.log_file, config.logtime, false);
  } else if (!config.remote_syslog.empty()) {
    absl::StatusOr<std::unique_ptr<LogSink>> remote =
        RemoteSyslogSink::Dial(config.remote_syslog, config.syslog_tag);
    if (!remote.ok()) return remote.status();
    sink = *std::move(remote);
  } else if (config.syslog) {
    sink = std::make_unique<LocalSyslogSink>(config.syslog_tag);
  } else {
    sink = StderrSink(config.logtime);
  }
  {
    absl::MutexLock lock(&mu_);
    sink_ = std::move(sink);
  }
  debug_.store(config.debug, std::memory_order_relaxed);
  trace_.store(config.trace, std::memory_order_relaxed);
  return absl::OkStatus();
}

void Logger::Reopen() {
  absl::Status s;
  {
    absl::MutexLock lock(&mu_);
    s = sink_->Reopen();
  }
  if (s.ok()) {
    Notice("File log re-opened");
  } else if (absl::IsFailedPrecondition(s)) {
    Notice("File log re-open ignored, not a file logger");
  } else {
    Error("Could not re-open log file: {}", std::string(s.message()));
  }
}

void Logger::Log(LogLevel level, std::string_view message) {
  if ((level == LogLevel::kDebug && !debug_enabled()) ||
      (level == LogLevel::kTrace && !trace_enabled())) {
    return;
  }
  absl::MutexLock lock(&mu_);
  sink_->Write(level, message);
}

void Logger::Exit() { std::exit(1); }

}  // namespace natsd
