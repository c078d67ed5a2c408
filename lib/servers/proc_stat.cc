#include "lib/servers/proc_stat.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace cabench {
namespace {

absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// The whole of a small file (/proc files report size 0, so read to EOF).
absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "r"));
  if (file == nullptr) {
    const int err = errno;
    std::string message = absl::StrCat(path, ": ", std::strerror(err));
    if (err == ENOENT || err == ESRCH) return absl::NotFoundError(message);
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
    return absl::InternalError(message);
  }
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0 && text.size() < (1 << 16)) {
    text.append(buffer, n);
  }
  if (std::ferror(file.get())) {
    return absl::InternalError(absl::StrCat(path, ": read error"));
  }
  return text;
}

bool HasCommandOf(ServerKind kind, std::string_view comm) {
  if (kind == ServerKind::kDatabase) return comm == "mariadbd" || comm == "mysqld";
  return comm == "redis-server" || comm == "valkey-server";
}

}  // namespace

absl::StatusOr<ProcStat> ParseProcStat(std::string_view text) {
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return absl::InvalidArgumentError("proc stat: no (command name)");
  }
  ProcStat stat;
  stat.comm = std::string(text.substr(open + 1, close - open - 1));
  // Fields 3, 4, ... after the name: field n is rest[n - 3].
  const std::vector<absl::string_view> rest =
      absl::StrSplit(Sv(text.substr(close + 1)), ' ', absl::SkipEmpty());
  constexpr size_t kUtime = 14 - 3, kStime = 15 - 3, kStart = 22 - 3;
  if (rest.size() <= kStart || !absl::SimpleAtoi(rest[kUtime], &stat.utime_ticks) ||
      !absl::SimpleAtoi(rest[kStime], &stat.stime_ticks) ||
      !absl::SimpleAtoi(rest[kStart], &stat.start_ticks)) {
    return absl::InvalidArgumentError(
        absl::StrCat("proc stat of '", stat.comm, "': fields 14, 15, 22 are not numbers"));
  }
  return stat;
}

absl::StatusOr<double> ServerCpuMs(const std::string& proc_root, int64_t pid, ServerKind kind,
                                   std::optional<int64_t> server_uptime_s) {
  if (pid <= 0) return absl::InvalidArgumentError(absl::StrCat("pid ", pid, " is not a process"));
  absl::StatusOr<std::string> text = ReadSmallFile(absl::StrCat(proc_root, "/", pid, "/stat"));
  if (!text.ok()) return text.status();
  absl::StatusOr<ProcStat> stat = ParseProcStat(*text);
  if (!stat.ok()) return stat.status();
  if (!HasCommandOf(kind, stat->comm)) {
    return absl::FailedPreconditionError(
        absl::StrCat("pid ", pid, " is ", stat->comm, ", not the server"));
  }
  const double ticks_per_s = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (ticks_per_s <= 0) return absl::InternalError("sysconf(_SC_CLK_TCK) failed");
  if (server_uptime_s.has_value()) {
    absl::StatusOr<std::string> uptime_text = ReadSmallFile(absl::StrCat(proc_root, "/uptime"));
    if (!uptime_text.ok()) return uptime_text.status();
    double boot_uptime_s = 0;
    const absl::string_view first = absl::StripAsciiWhitespace(
        absl::string_view(*uptime_text).substr(0, uptime_text->find(' ')));
    if (!absl::SimpleAtod(first, &boot_uptime_s)) {
      return absl::InvalidArgumentError(absl::StrCat(proc_root, "/uptime: not a number"));
    }
    const double age_s = boot_uptime_s - static_cast<double>(stat->start_ticks) / ticks_per_s;
    if (std::abs(age_s - static_cast<double>(*server_uptime_s)) > kStartSlackS) {
      return absl::FailedPreconditionError(absl::StrCat(
          "pid ", pid, " (", stat->comm, ") has run ", static_cast<int64_t>(age_s),
          " s but the server reports an uptime of ", *server_uptime_s, " s: another process"));
    }
  }
  return static_cast<double>(stat->utime_ticks + stat->stime_ticks) * 1000.0 / ticks_per_s;
}

absl::StatusOr<int64_t> ReadPidFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (!text.ok()) return text.status();
  int64_t pid = 0;
  const absl::string_view line = absl::string_view(*text).substr(0, text->find('\n'));
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &pid) || pid <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no pid in the file"));
  }
  return pid;
}

absl::StatusOr<double> ClientCpuMs() {
  rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) {
    return absl::InternalError(absl::StrCat("getrusage: ", std::strerror(errno)));
  }
  const auto ms = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1000.0 + static_cast<double>(tv.tv_usec) / 1000.0;
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

}  // namespace cabench
