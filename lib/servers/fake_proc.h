// File: lib/servers/fake_proc.h
//
// FakeProc, for unit tests of lib/servers: a temporary directory shaped like
// the parts of /proc that proc_stat.h reads (<root>/uptime and
// <root>/<pid>/stat), so that process CPU and the identity checks can be
// tested without real processes. Times are given in clock ticks
// (sysconf(_SC_CLK_TCK)) as in the real files. Header-only; used by tests
// only. The directory is removed by the destructor.
//
// Thread safety: not safe for concurrent use; the code under test may read
// the files while no FakeProc method runs.
#ifndef CABENCH_LIB_SERVERS_FAKE_PROC_H_
#define CABENCH_LIB_SERVERS_FAKE_PROC_H_

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace cabench {

class FakeProc {
 public:
  FakeProc() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "cabench_fake_proc_XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) root_ = pattern;
  }
  ~FakeProc() {
    std::error_code ignored;
    if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
  }
  FakeProc(const FakeProc&) = delete;
  FakeProc& operator=(const FakeProc&) = delete;

  // The directory to pass as proc_root; empty if it could not be made.
  const std::string& root() const { return root_; }

  // Writes <root>/uptime: the seconds since boot.
  void SetBootUptime(double seconds) const {
    Write(absl::StrCat(root_, "/uptime"), absl::StrCat(seconds, " 12345.67\n"));
  }

  // Writes <root>/<pid>/stat for a process named `comm` that has used
  // `utime` + `stime` ticks and started `start` ticks after boot.
  void SetProcess(int64_t pid, const std::string& comm, int64_t utime, int64_t stime,
                  int64_t start) const {
    const std::string dir = absl::StrCat(root_, "/", pid);
    std::filesystem::create_directories(dir);
    Write(absl::StrCat(dir, "/stat"),
          absl::StrCat(pid, " (", comm, ") S 1 ", pid, " ", pid, " 0 -1 4194624 374 0 0 0 ", utime,
                       " ", stime, " 0 0 20 0 5 0 ", start,
                       " 62283776 1740 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0\n"));
  }

  // Writes any file below the root (e.g. a pid file), making its folders;
  // returns its path.
  std::string WriteFile(const std::string& name, const std::string& text) const {
    const std::string path = absl::StrCat(root_, "/", name);
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    Write(path, text);
    return path;
  }

 private:
  static void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }

  std::string root_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_SERVERS_FAKE_PROC_H_
