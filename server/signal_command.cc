#include "server/signal_command.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "fmt/format.h"
#include "fmt/ranges.h"

namespace natsd {
namespace {

constexpr char kProcessName[] = "natsd";

// A value that names an existing file is a pid file: its content is the pid.
std::string MaybeReadPidFile(const std::string& value) {
  std::ifstream f(value);
  if (!f) return value;
  std::string content((std::istreambuf_iterator<char>(f)), {});
  return std::string(absl::StripAsciiWhitespace(content));
}

// Every other process whose name is natsd (what the reference asks pgrep).
std::vector<int> FindNatsdProcesses() {
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  const int self = getpid();
  while (dirent* e = readdir(proc)) {
    int pid = 0;
    if (!absl::SimpleAtoi(e->d_name, &pid) || pid == self) continue;
    std::ifstream comm(fmt::format("/proc/{}/comm", pid));
    std::string name;
    if (std::getline(comm, name) && name == kProcessName) pids.push_back(pid);
  }
  closedir(proc);
  return pids;
}

}  // namespace

absl::Status SendSignalCommand(std::string_view spec) {
  const std::vector<std::string> parts = absl::StrSplit(
      absl::string_view(spec.data(), spec.size()), '=');
  if (parts.size() > 2) {
    // Go prints the extra parts as a slice: "[a b]".
    return absl::InvalidArgumentError(fmt::format(
        "invalid signal parameters: [{}]",
        fmt::join(parts.begin() + 2, parts.end(), " ")));
  }
  const std::string& command = parts[0];
  const std::string pid_text = parts.size() == 2 ? MaybeReadPidFile(parts[1]) : "";

  int pid = 0;
  if (pid_text.empty()) {
    const std::vector<int> pids = FindNatsdProcesses();
    if (pids.empty()) {
      return absl::NotFoundError(fmt::format("no {} processes running", kProcessName));
    }
    if (pids.size() > 1) {
      return absl::FailedPreconditionError(fmt::format(
          "multiple {} processes running:\n{}", kProcessName, fmt::join(pids, "\n")));
    }
    pid = pids[0];
  } else if (!absl::SimpleAtoi(pid_text, &pid)) {
    return absl::InvalidArgumentError(fmt::format("invalid pid: {}", pid_text));
  }

  int sig = 0;
  if (command == "stop") {
    sig = SIGKILL;
  } else if (command == "quit") {
    sig = SIGINT;
  } else if (command == "reopen") {
    sig = SIGUSR1;
  } else if (command == "reload") {
    sig = SIGHUP;
  } else if (command == "ldm") {
    sig = SIGUSR2;
  } else if (command == "term") {
    sig = SIGTERM;
  } else {
    return absl::InvalidArgumentError(fmt::format("unknown signal \"{}\"", command));
  }
  if (kill(pid, sig) != 0) {
    return absl::UnavailableError(fmt::format("{}", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace natsd
