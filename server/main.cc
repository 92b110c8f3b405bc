// natsd: the process entry point. Command line and config file exactly as
// nats-server reads them, then the server runs until INT or TERM, or until
// lame duck mode (USR2) has closed every client.
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/auth.h"
#include "server/flags.h"
#include "server/logger.h"
#include "server/options.h"
#include "server/server.h"
#include "server/signal_command.h"
#include "server/signals.h"

namespace {

int Run(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  absl::StatusOr<natsd::FlagResult> flags = natsd::ParseFlags(args);
  if (!flags.ok()) {
    std::fprintf(stderr, "natsd: %s\n", std::string(flags.status().message()).c_str());
    return 1;
  }
  switch (flags->action) {
    case natsd::FlagResult::Action::kBadFlag:
      std::fprintf(stderr, "%s\n", flags->error.c_str());
      std::fputs(std::string(natsd::UsageText()).c_str(), stdout);
      return 0;
    case natsd::FlagResult::Action::kHelp:
      std::fputs(std::string(natsd::UsageText()).c_str(), stdout);
      return 0;
    case natsd::FlagResult::Action::kTlsHelp:
      std::fputs(std::string(natsd::TlsHelpText()).c_str(), stdout);
      return 0;
    case natsd::FlagResult::Action::kVersion:
      std::printf("%s\n", natsd::VersionText().c_str());
      return 0;
    case natsd::FlagResult::Action::kSignal:
      if (absl::Status s = natsd::SendSignalCommand(flags->signal); !s.ok()) {
        std::fprintf(stderr, "natsd: %s\n", std::string(s.message()).c_str());
        return 1;
      }
      return 0;
    case natsd::FlagResult::Action::kRun:
      break;
  }

  std::vector<std::string> warnings;
  absl::StatusOr<natsd::Options> opts = natsd::BuildOptions(*flags, &warnings);
  if (!opts.ok()) {
    std::fprintf(stderr, "natsd: %s\n", std::string(opts.status().message()).c_str());
    return 1;
  }
  if (flags->check_config) {
    // nats-server's -t also rejects what its config reader checks in
    // authorization blocks (permissions, nkeys, connection types), which
    // natsd checks when it builds the Authenticator.
    if (absl::Status s = natsd::Authenticator::CheckConfig(*opts); !s.ok()) {
      std::fprintf(stderr, "natsd: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    std::fprintf(stderr, "natsd: configuration file %s is valid\n",
                 opts->config_file.c_str());
    return 0;
  }

  for (const std::string& w : warnings) std::fprintf(stderr, "natsd: %s\n", w.c_str());

  natsd::Logger& log = natsd::Logger::Global();
  if (absl::Status s = log.Configure(natsd::LoggerConfigFromOptions(*opts, "natsd"));
      !s.ok()) {
    std::fprintf(stderr, "natsd: %s\n", std::string(s.message()).c_str());
    return 1;
  }

  // Before any thread exists, so that every thread inherits the mask.
  natsd::BlockSignals();
  natsd::Server server(*std::move(opts));
  if (absl::Status s = server.Start(); !s.ok()) {
    log.Error("{}", std::string(s.message()));
    server.Shutdown();
    return 1;
  }
  natsd::SignalActions actions;
  actions.enter_lame_duck_mode = [&server] {
    server.EnterLameDuckMode([] { natsd::LameDuckModeDone(); });
  };
  // The config file is read again and the same command line applied over
  // it, as nats-server's reload does.
  actions.reload = [&server, &flags]() -> absl::Status {
    if (flags->config_file.empty()) {
      return absl::FailedPreconditionError(
          "can only reload config when a file is provided using -c or --config");
    }
    std::vector<std::string> reload_warnings;
    absl::StatusOr<natsd::Options> fresh = natsd::BuildOptions(*flags, &reload_warnings);
    if (!fresh.ok()) return fresh.status();
    return server.Reload(*std::move(fresh));
  };
  natsd::WaitForSignals(std::move(actions));
  server.Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
