#include "lib/clients/kv_routing.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace cabench {
namespace {

constexpr absl::string_view kRoutingMagic = "cabench-routing";
constexpr int kRoutingVersion = 1;

// 1234567 -> "1,234,567".
std::string Grouped(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace

KvRouting RoutingSince(const KvRouting& before, const KvRouting& after) {
  KvRouting since = after;
  since.moved_redirects -= before.moved_redirects;
  since.ask_redirects -= before.ask_redirects;
  since.retries -= before.retries;
  for (const auto& [node, ops] : before.node_ops) since.node_ops[node] -= ops;
  return since;
}

void AddRouting(const KvRouting& part, KvRouting* total) {
  total->moved_redirects += part.moved_redirects;
  total->ask_redirects += part.ask_redirects;
  total->retries += part.retries;
  total->primaries = std::max(total->primaries, part.primaries);
  for (const auto& [node, ops] : part.node_ops) total->node_ops[node] += ops;
}

std::map<CounterId, double> RoutingCounters(const KvRouting& routing) {
  std::map<CounterId, double> counters;
  counters[CounterId::kClusterNodes] = static_cast<double>(routing.primaries);
  counters[CounterId::kMovedRedirects] = static_cast<double>(routing.moved_redirects);
  counters[CounterId::kAskRedirects] = static_cast<double>(routing.ask_redirects);
  counters[CounterId::kClusterRetries] = static_cast<double>(routing.retries);
  int64_t sum = 0;
  int64_t least = INT64_MAX;
  int64_t most = 0;
  for (const auto& [node, ops] : routing.node_ops) {
    sum += ops;
    least = std::min(least, ops);
    most = std::max(most, ops);
  }
  if (sum > 0) {
    counters[CounterId::kNodeOpsMinPct] = 100.0 * static_cast<double>(least) / sum;
    counters[CounterId::kNodeOpsMaxPct] = 100.0 * static_cast<double>(most) / sum;
  }
  return counters;
}

std::string NodeOpsLine(const KvRouting& routing) {
  int64_t sum = 0;
  for (const auto& [node, ops] : routing.node_ops) sum += ops;
  std::string line = "commands per node:";
  const char* sep = " ";
  for (const auto& [node, ops] : routing.node_ops) {
    absl::StrAppend(&line, sep, node, " ", Grouped(ops));
    if (sum > 0) absl::StrAppend(&line, absl::StrFormat(" (%.1f%%)", 100.0 * ops / sum));
    sep = ", ";
  }
  return line;
}

std::string RoutingText(const KvRouting& routing) {
  std::string text =
      absl::StrCat(kRoutingMagic, " ", kRoutingVersion, " primaries=", routing.primaries,
                   " moved=", routing.moved_redirects, " ask=", routing.ask_redirects,
                   " retries=", routing.retries);
  for (const auto& [node, ops] : routing.node_ops) absl::StrAppend(&text, " node=", node, ",", ops);
  return text;
}

absl::StatusOr<KvRouting> ParseRoutingText(absl::string_view text) {
  auto bad = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("routing: ", why));
  };
  std::vector<absl::string_view> words = absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (words.size() < 2 || words[0] != kRoutingMagic || words[1] != absl::StrCat(kRoutingVersion)) {
    return bad(absl::StrCat("not '", kRoutingMagic, " ", kRoutingVersion, " ...'"));
  }
  KvRouting routing;
  std::set<absl::string_view> seen;
  for (size_t i = 2; i < words.size(); ++i) {
    const std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(words[i], absl::MaxSplits('=', 1));
    int64_t* into = nullptr;
    if (kv.first == "primaries") into = &routing.primaries;
    if (kv.first == "moved") into = &routing.moved_redirects;
    if (kv.first == "ask") into = &routing.ask_redirects;
    if (kv.first == "retries") into = &routing.retries;
    if (into != nullptr) {
      if (!seen.insert(kv.first).second || !absl::SimpleAtoi(kv.second, into) || *into < 0) {
        return bad(absl::StrCat("'", words[i], "'"));
      }
      continue;
    }
    const size_t comma = kv.second.rfind(',');
    int64_t ops = 0;
    if (kv.first != "node" || comma == absl::string_view::npos || comma == 0 ||
        !absl::SimpleAtoi(kv.second.substr(comma + 1), &ops) || ops < 0) {
      return bad(absl::StrCat("'", words[i], "'"));
    }
    routing.node_ops[std::string(kv.second.substr(0, comma))] += ops;
  }
  if (seen.size() != 4) return bad("primaries, moved, ask and retries are each needed once");
  return routing;
}

}  // namespace cabench
