// File: lib/servers/proc_stat.h
//
// CPU time of processes, from Linux: the servers' own processes through
// /proc/<pid>/stat (only meaningful when they run on this machine), and
// cabench's through getrusage(2). lib/servers/server_stats.h uses these; they
// are separate so that the parsing and the identity checks can be tested
// against a fake /proc directory.
//
// A pid alone does not prove which program it is: a server in a container
// reports the pid of its own pid namespace, which on the host may belong to
// anything. ServerCpuMs() therefore reads a pid only after checking that the
// process there is that kind of server (its command name) and, when the server
// says how long it has been up, that the process is as old (see kStartSlackS).
//
// Thread safety: every function here is pure or only reads files; all are
// safe to call concurrently.
#ifndef CABENCH_LIB_SERVERS_PROC_STAT_H_
#define CABENCH_LIB_SERVERS_PROC_STAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cabench {

// The fields of /proc/<pid>/stat (proc(5)) that cabench uses. Times are in
// clock ticks (sysconf(_SC_CLK_TCK), 100 a second on Linux); utime and stime
// cover all the threads of the process.
struct ProcStat {
  std::string comm;         // field 2, the command name, without its parentheses
  int64_t utime_ticks = 0;  // field 14: CPU time in user mode
  int64_t stime_ticks = 0;  // field 15: CPU time in kernel mode
  int64_t start_ticks = 0;  // field 22: when the process started, after boot
};

// The kinds of server whose process CPU cabench reads, and the command names
// that identify them: mariadbd or mysqld; redis-server or valkey-server.
enum class ServerKind { kDatabase, kCache };

// How far the process's age may differ from the uptime the server reports.
// Both servers start counting their uptime early in start-up (MariaDB before
// InnoDB starts, Redis in initServer), so a real server is within a second or
// two; the slack also absorbs a wall-clock step while the server ran.
inline constexpr int64_t kStartSlackS = 30;

// Parses the text of /proc/<pid>/stat. The command name may contain spaces
// and parentheses: it ends at the LAST ')'. Returns the fields above.
// Fails with InvalidArgument when the text is not such a line. Thread-safe.
absl::StatusOr<ProcStat> ParseProcStat(std::string_view text);

// The CPU time (user + system) in milliseconds of the process `pid`, read from
// <proc_root>/<pid>/stat (proc_root is "/proc" outside tests), once it is
// known to be a `kind` server: its command name is one of that kind's, and,
// when `server_uptime_s` is given, its age (<proc_root>/uptime minus its start
// time) is within kStartSlackS of server_uptime_s.
// Fails with InvalidArgument (pid <= 0, an unparsable file), NotFound (no such
// process), PermissionDenied (the file is not ours to read),
// FailedPrecondition (the process is not that server: another command name or
// age) or Internal (another read error). Thread-safe.
absl::StatusOr<double> ServerCpuMs(const std::string& proc_root, int64_t pid, ServerKind kind,
                                   std::optional<int64_t> server_uptime_s);

// The pid written in a server's pid file (a decimal number on the first
// line). Fails with NotFound, PermissionDenied or Internal (cannot read the
// file) or InvalidArgument (no positive number in it). Thread-safe.
absl::StatusOr<int64_t> ReadPidFile(const std::string& path);

// cabench's own CPU time (user + system, every thread) in milliseconds, from
// getrusage(RUSAGE_SELF). Fails with Internal if getrusage does. Thread-safe.
absl::StatusOr<double> ClientCpuMs();

}  // namespace cabench

#endif  // CABENCH_LIB_SERVERS_PROC_STAT_H_
