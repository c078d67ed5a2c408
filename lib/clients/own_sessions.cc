#include "lib/clients/own_sessions.h"

#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace cabench {
namespace {

struct DbSessions {
  std::mutex mu;
  std::set<std::pair<std::string, int64_t>> sessions;
};

DbSessions& Sessions() {
  static auto* sessions = new DbSessions();
  return *sessions;
}

}  // namespace

const std::string& OwnCacheClientName() {
  static const auto* name = [] {
    absl::BitGen gen;
    return new std::string(absl::StrCat("cabench-", getpid(), "-",
                                        absl::Hex(absl::Uniform<uint32_t>(gen), absl::kZeroPad8)));
  }();
  return *name;
}

void AddOwnDbSession(std::string_view server, int64_t id) {
  DbSessions& s = Sessions();
  std::lock_guard<std::mutex> lock(s.mu);
  s.sessions.emplace(std::string(server), id);
}

bool IsOwnDbSession(std::string_view server, int64_t id) {
  DbSessions& s = Sessions();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.sessions.count(std::pair<std::string, int64_t>(server, id)) > 0;
}

}  // namespace cabench
