// Logger: natsd's log output, line for line in nats-server's format.
//
//   [12345] 2026/11/24 03:14:41.123456 [INF] Server is ready
//   [12345] [INF] Server is ready                    (logtime false)
//
// Output goes to stderr (labels coloured when stderr is a terminal, as
// nats-server does), to a file opened for appending (-l; rotated by size
// when log_size_limit is set, see LoggerConfig), to the local
// syslog (-s) or to a remote syslog server (-r udp://host:514). Debug (-D)
// and trace (-V) lines are dropped unless enabled; check debug_enabled() /
// trace_enabled() before building expensive arguments on hot paths:
//
//   natsd::Logger& log = natsd::Logger::Global();
//   log.Notice("Listening for client connections on {}:{}", host, port);
//   if (log.trace_enabled()) log.Trace("<<- [{}]", proto);
//
// Thread-safety: all methods are safe to call concurrently. Each line is
// written with one write(2) under a mutex, so lines never interleave.
#ifndef NATSD_SERVER_LOGGER_H_
#define NATSD_SERVER_LOGGER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "fmt/format.h"
#include "server/options.h"

namespace natsd {

enum class LogLevel { kFatal, kError, kWarn, kNotice, kDebug, kTrace };

// Where and how to log. Precedence is nats-server's: log_file, then
// remote_syslog, then syslog, else stderr.
struct LoggerConfig {
  bool logtime = true;
  bool debug = false;
  bool trace = false;
  std::string log_file;
  // Bytes after which log_file is rotated, as nats-server does: once a line
  // takes the file past the limit, the file is renamed to
  // "<log_file>.YYYY.MM.DD.hh.mm.ss.nnnnnnnnn" (local time), a new one is
  // opened and starts with "Rotated log, backup saved as ...". A file that
  // is already past the limit when opened is rotated at once. 0: never.
  int64_t log_size_limit = 0;
  bool syslog = false;
  std::string remote_syslog;  // udp://host:port, tcp://host:port, unix:///path
  std::string syslog_tag = "natsd";  // nats-server uses basename(argv[0])
};

LoggerConfig LoggerConfigFromOptions(const Options& opts, std::string_view syslog_tag);

// Destination of formatted messages; one per configured output.
class LogSink {
 public:
  virtual ~LogSink() = default;
  // `message` has no level label or newline. Called with the logger's mutex
  // held, so implementations need no locking of their own.
  virtual void Write(LogLevel level, std::string_view message) = 0;
  // Reopens a log file after rotation by an external tool (SIGUSR1);
  // returns FailedPrecondition for sinks that are not files. Size rotation
  // counts from the reopened file's size. Called with the logger's mutex
  // held.
  virtual absl::Status Reopen() = 0;
};

class Logger {
 public:
  // Logs to stderr with timestamps until Configure() is called.
  Logger();
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // The process-wide logger used by the server.
  static Logger& Global();

  // Switches output and levels. On error (unwritable file, bad syslog URL)
  // the previous configuration stays in effect.
  absl::Status Configure(const LoggerConfig& config);

  // Reopens the log file (SIGUSR1) and notes it in the log, as nats-server
  // does; with no log file it only logs that the request was ignored.
  void Reopen();

  bool debug_enabled() const { return debug_.load(std::memory_order_relaxed); }
  bool trace_enabled() const { return trace_.load(std::memory_order_relaxed); }

  template <typename... Args>
  void Notice(fmt::format_string<Args...> f, Args&&... args) {
    Log(LogLevel::kNotice, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Warn(fmt::format_string<Args...> f, Args&&... args) {
    Log(LogLevel::kWarn, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Error(fmt::format_string<Args...> f, Args&&... args) {
    Log(LogLevel::kError, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Debug(fmt::format_string<Args...> f, Args&&... args) {
    if (debug_enabled()) Log(LogLevel::kDebug, fmt::format(f, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void Trace(fmt::format_string<Args...> f, Args&&... args) {
    if (trace_enabled()) Log(LogLevel::kTrace, fmt::format(f, std::forward<Args>(args)...));
  }
  // Logs and exits with status 1, like Go's log.Fatalf.
  template <typename... Args>
  [[noreturn]] void Fatal(fmt::format_string<Args...> f, Args&&... args) {
    Log(LogLevel::kFatal, fmt::format(f, std::forward<Args>(args)...));
    Exit();
  }

  // Writes one message at `level`, honouring the debug/trace switches.
  void Log(LogLevel level, std::string_view message);

 private:
  [[noreturn]] static void Exit();

  std::atomic<bool> debug_{false};
  std::atomic<bool> trace_{false};
  absl::Mutex mu_;
  std::unique_ptr<LogSink> sink_ ABSL_GUARDED_BY(mu_);
};

}  // namespace natsd

#endif  // NATSD_SERVER_LOGGER_H_
