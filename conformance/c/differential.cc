#include "conformance/c/differential.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdarg>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace conformance {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

std::string Tail(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return s.size() > 1500 ? s.substr(s.size() - 1500) : s;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "\n" : "") + v[i];
  return out;
}

// A minimal line diff: every line that differs at the same index, plus length.
std::string Diff(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::string out;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string* x = i < a.size() ? &a[i] : nullptr;
    const std::string* y = i < b.size() ? &b[i] : nullptr;
    if (x && y && *x == *y) continue;
    if (x) out += "-reference: " + *x + "\n";
    if (y) out += "+natsd:     " + *y + "\n";
  }
  return out;
}

}  // namespace

Server::Server(std::string binary, ServerSpec spec) : binary_(std::move(binary)), spec_(std::move(spec)) {
  char tmpl[] = "/tmp/natsconf-c-XXXXXX";
  dir_ = mkdtemp(tmpl) ? tmpl : "/tmp";
}

Server::~Server() {
  Stop();
  std::error_code ec;
  if (dir_ != "/tmp") std::filesystem::remove_all(dir_, ec);
}

bool Server::Start(int port) {
  const bool fixed = port != 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    int p = fixed ? port : FreePort();
    std::vector<std::string> args = {binary_, "-a", "127.0.0.1", "-p", std::to_string(p)};
    if (!spec_.config.empty()) {
      std::string conf = dir_ + "/server.conf";
      // {nkey_user}: the run's user NKEY (conformance/harness/nkeys.py);
      // {certs}: its TLS certificates (conformance/harness/certs.py).
      const char* nkey = getenv("NATS_NKEY_PUBLIC");
      std::ofstream(conf) << ReplaceAll(
          ReplaceAll(ReplaceAll(spec_.config, "{dir}", dir_), "{nkey_user}",
                     nkey != nullptr ? nkey : ""),
          "{certs}", CertsDir());
      args.push_back("-c");
      args.push_back(conf);
    }
    for (const auto& f : spec_.flags) {
      args.push_back(ReplaceAll(ReplaceAll(f, "{dir}", dir_), "{certs}", CertsDir()));
    }
    std::string log = dir_ + "/server.log";
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test binary
      if (getppid() != parent) _exit(1);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    pid_ = pid;
    if (WaitReady(p)) {
      port_ = p;
      return true;
    }
    Stop();
    std::string tail = Tail(log);
    if (tail.find("address already in use") == std::string::npos) {
      error_ = "server did not start: " + tail;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  error_ = "server did not start (port in use)";
  return false;
}

bool Server::WaitReady(int port) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    bool ready = false;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
      char buf[4];
      ready = recv(fd, buf, 4, MSG_WAITALL) == 4 && std::string(buf, 4) == "INFO";
    }
    close(fd);
    if (ready) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void Server::Stop() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool Server::Restart() {
  Stop();
  return Start(port_);
}

Ctx::~Ctx() {
  for (auto* s : subs_) natsSubscription_Destroy(s);
  for (auto* c : conns_) {
    natsConnection_Close(c);
    natsConnection_Destroy(c);
  }
  for (auto* o : opts_) natsOptions_Destroy(o);
}

std::string Ctx::url() const { return "nats://127.0.0.1:" + std::to_string(server_->port()); }

void Ctx::Note(const char* fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  lines_.emplace_back(buf);
}

void Ctx::Check(bool ok, const std::string& what) {
  if (!ok) throw CheckFailed{what};
}

void Ctx::CheckOk(natsStatus s, const std::string& what) {
  if (s != NATS_OK) throw CheckFailed{what + ": " + StatusText(s)};
}

natsOptions* Ctx::Options() {
  natsOptions* o = nullptr;
  natsOptions_Create(&o);
  natsOptions_SetTimeout(o, 5000);
  opts_.push_back(o);
  return o;
}

natsConnection* Ctx::Connect(natsOptions* opts) {
  if (!opts) opts = Options();
  natsOptions_SetURL(opts, url().c_str());
  natsConnection* nc = nullptr;
  CheckOk(natsConnection_Connect(&nc, opts), "connect");
  conns_.push_back(nc);
  return nc;
}

std::string Ctx::TryConnect(natsOptions* opts) {
  if (!opts) opts = Options();
  natsOptions_SetURL(opts, url().c_str());
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts);
  if (s == NATS_OK) {
    natsConnection_Destroy(nc);
    return "OK";
  }
  return StatusText(s);
}

std::string StatusText(natsStatus s) { return natsStatus_GetText(s); }

std::string CertsDir() {
  const char* dir = getenv("NATS_CONF_CERTS");
  return dir != nullptr ? dir : "";
}

void RunDifferential(const char* name, const ServerSpec& spec, const CaseFn& fn) {
  const char* ref_env = getenv("NATS_SERVER_BIN");
  const char* natsd_env = getenv("NATSD_BIN");
  std::string ref = ref_env ? ref_env : "/usr/sbin/nats-server";
  if (access(ref.c_str(), X_OK) != 0) GTEST_SKIP() << "reference nats-server not found: apt-get install nats-server";
  ASSERT_TRUE(natsd_env) << "set NATSD_BIN to the natsd binary";
  static bool opened = (nats_Open(-1), true);
  (void)opened;

  auto side = [&](const std::string& binary, std::vector<std::string>* lines) -> std::string {
    Server server(binary, spec);
    if (!server.Start()) return server.Error();
    std::string err;
    {
      Ctx ctx(&server);
      try {
        fn(ctx);
      } catch (const CheckFailed& e) {
        err = "check failed: " + e.what;
      }
      *lines = ctx.lines();
    }
    return err.empty() ? "ok" : err;
  };
  std::vector<std::string> ref_lines, natsd_lines;
  std::string ref_result = side(ref, &ref_lines);
  std::string natsd_result = side(natsd_env, &natsd_lines);
  testing::Test::RecordProperty("reference", ref_result);
  testing::Test::RecordProperty("natsd", natsd_result);
  testing::Test::RecordProperty("reference_obs", Join(ref_lines));
  testing::Test::RecordProperty("natsd_obs", Join(natsd_lines));
  EXPECT_EQ(ref_result, "ok") << "HARNESS bug: case " << name << " fails against the reference";
  EXPECT_EQ(natsd_result, "ok") << "natsd failed case " << name;
  EXPECT_TRUE(ref_lines == natsd_lines) << "observations differ:\n" << Diff(ref_lines, natsd_lines);
}

}  // namespace conformance
