#include "server/logger.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/go_quote.h"

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
//
// A log file with a size limit is rotated in Write as nats-server does it.
// Its size is a byte counter, set from fstat when the file is opened and
// advanced by each line, so a line costs one write(2) and no stat.
class StreamSink : public LogSink {
 public:
  static std::unique_ptr<LogSink> Stderr(bool logtime) {
    return std::unique_ptr<LogSink>(
        new StreamSink(STDERR_FILENO, "", logtime, ::isatty(STDERR_FILENO) == 1, 0));
  }

  // Opens `path` for appending; rotates it at once if it is already past
  // `size_limit` (> 0), as nats-server does when it sets the limit.
  static absl::StatusOr<std::unique_ptr<LogSink>> File(std::string path, bool logtime,
                                                       int64_t size_limit) {
    absl::StatusOr<OpenedFile> file = OpenFile(path);
    if (!file.ok()) return file.status();
    std::unique_ptr<StreamSink> sink(
        new StreamSink(file->fd, std::move(path), logtime, false, size_limit));
    sink->Started(file->size);
    return sink;
  }

  ~StreamSink() override {
    if (!path_.empty()) ::close(fd_);
  }

  void Write(LogLevel level, std::string_view message) override {
    WriteLine(colors_ ? ColoredLabel(level) : PlainLabel(level), message, "\n");
    if (limit_ > 0 && size_ > limit_) Rotate();
  }

  absl::Status Reopen() override {
    if (path_.empty()) {
      return absl::FailedPreconditionError("not a file logger");
    }
    absl::StatusOr<OpenedFile> file = OpenFile(path_);
    if (!file.ok()) return file.status();
    ::close(fd_);
    fd_ = file->fd;
    Started(file->size);
    return absl::OkStatus();
  }

 private:
  struct OpenedFile {
    int fd;
    int64_t size;
  };

  StreamSink(int fd, std::string path, bool logtime, bool colors, int64_t size_limit)
      : fd_(fd), path_(std::move(path)), logtime_(logtime), colors_(colors),
        prefix_(fmt::format("[{}] ", ::getpid())), original_limit_(size_limit),
        limit_(size_limit) {}

  static absl::StatusOr<OpenedFile> OpenFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0660);
    struct stat st;
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      int err = errno;
      if (fd >= 0) ::close(fd);
      return absl::ErrnoToStatus(err, fmt::format("error opening file: {}", path));
    }
    return OpenedFile{fd, static_cast<int64_t>(st.st_size)};
  }

  // A (re)opened file of `size` bytes becomes the output.
  void Started(int64_t size) {
    size_ = size;
    limit_ = original_limit_;
    if (limit_ > 0 && size_ > limit_) Write(LogLevel::kNotice, "Rotating logfile...");
  }

  void WriteLine(std::string_view label, std::string_view message, std::string_view eol) {
    std::string line = prefix_;
    if (logtime_) {
      line += absl::FormatTime("%Y/%m/%d %H:%M:%E6S ", absl::Now(), absl::LocalTimeZone());
    }
    line += label;
    line += message;
    line += eol;
    WriteAll(fd_, line);
    size_ += static_cast<int64_t>(line.size());
  }

  // The file is renamed while still open, so until the new one is open
  // every line has a home and a failed rename can be undone. A failed
  // rename still reopens the path, as nats-server does: a log file deleted
  // under a running server comes back at the next rotation.
  void Rotate() {
    std::string backup = path_ + absl::FormatTime(".%Y.%m.%d.%H.%M.%S.%E9f", absl::Now(),
                                                  absl::LocalTimeZone());
    const bool renamed = ::rename(path_.c_str(), backup.c_str()) == 0;
    const int rename_errno = errno;
    absl::StatusOr<OpenedFile> file = OpenFile(path_);
    if (!file.ok()) {
      if (renamed) ::rename(backup.c_str(), path_.c_str());
      RotationFailed(fmt::format("Unable to re-open the logfile {} after rotation ({})",
                                 GoQuote(path_), std::string(file.status().message())));
      return;
    }
    ::close(fd_);
    fd_ = file->fd;
    size_ = file->size;
    if (!renamed) {
      RotationFailed(fmt::format("Unable to rename logfile for rotation ({})",
                                 std::strerror(rename_errno)));
      return;
    }
    limit_ = original_limit_;
    // nats-server writes this one line itself, ending it with "\r\n".
    WriteLine(PlainLabel(LogLevel::kNotice), "Rotated log, backup saved as " + GoQuote(backup),
              "\r\n");
  }

  // Like nats-server when it cannot close the file for rotation: say so and
  // try again at twice the size instead of on every line.
  void RotationFailed(std::string_view why) {
    limit_ = limit_ > std::numeric_limits<int64_t>::max() / 2
                 ? std::numeric_limits<int64_t>::max()
                 : limit_ * 2;
    WriteLine(PlainLabel(LogLevel::kError),
              fmt::format("{}, will attempt next rotation at size {}", why, limit_), "\r\n");
  }

  int fd_;
  const std::string path_;  // empty: stderr
  const bool logtime_;
  const bool colors_;
  const std::string prefix_;
  const int64_t original_limit_;  // 0: never rotate
  int64_t limit_;                 // doubled while rotation keeps failing
  int64_t size_ = 0;              // bytes in the current file
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

}  // namespace

LoggerConfig LoggerConfigFromOptions(const Options& opts, std::string_view syslog_tag) {
  LoggerConfig c;
  c.logtime = opts.logtime;
  c.debug = opts.debug;
  c.trace = opts.trace;
  c.log_file = opts.log_file;
  c.log_size_limit = opts.log_size_limit;
  c.syslog = opts.syslog;
  c.remote_syslog = opts.remote_syslog;
  c.syslog_tag = std::string(syslog_tag);
  return c;
}

Logger::Logger() : sink_(StreamSink::Stderr(true)) {}
Logger::~Logger() = default;

Logger& Logger::Global() {
  static Logger* logger = new Logger();  // never destroyed: used until exit
  return *logger;
}

absl::Status Logger::Configure(const LoggerConfig& config) {
  std::unique_ptr<LogSink> sink;
  if (!config.log_file.empty()) {
    absl::StatusOr<std::unique_ptr<LogSink>> file =
        StreamSink::File(config.log_file, config.logtime, config.log_size_limit);
    if (!file.ok()) return file.status();
    sink = *std::move(file);
  } else if (!config.remote_syslog.empty()) {
    absl::StatusOr<std::unique_ptr<LogSink>> remote =
        RemoteSyslogSink::Dial(config.remote_syslog, config.syslog_tag);
    if (!remote.ok()) return remote.status();
    sink = *std::move(remote);
  } else if (config.syslog) {
    sink = std::make_unique<LocalSyslogSink>(config.syslog_tag);
  } else {
    sink = StreamSink::Stderr(config.logtime);
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
