#include "lib/redis/redis_cluster_client.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "lib/redis/redis_client.h"
#include "lib/redis/redis_connection.h"
#include "lib/servers/server_stats.h"

namespace cabench {
namespace internal {
namespace {

absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

uint16_t Crc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char byte : data) {
    crc ^= static_cast<uint16_t>(byte) << 8;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

int KeySlot(std::string_view key) {
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) % kClusterSlots;
}

std::optional<Redirect> ParseRedirect(std::string_view error) {
  Redirect redirect;
  if (absl::StartsWith(Sv(error), "MOVED ")) {
    error.remove_prefix(6);
  } else if (absl::StartsWith(Sv(error), "ASK ")) {
    redirect.ask = true;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const size_t space = error.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view address = error.substr(space + 1);
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  if (!absl::SimpleAtoi(Sv(error.substr(0, space)), &redirect.slot) || redirect.slot < 0 ||
      redirect.slot >= kClusterSlots) {
    return std::nullopt;
  }
  if (!absl::SimpleAtoi(Sv(address.substr(colon + 1)), &redirect.port) || redirect.port < 1 ||
      redirect.port > 65535) {
    return std::nullopt;
  }
  redirect.host = std::string(address.substr(0, colon));
  if (redirect.host.find(' ') != std::string::npos) return std::nullopt;
  return redirect;
}

absl::StatusOr<SlotMap> BuildSlotMap(const std::vector<SlotRange>& ranges) {
  constexpr uint16_t kNone = 0xffff;
  SlotMap map;
  map.owner.assign(kClusterSlots, kNone);
  for (const SlotRange& range : ranges) {
    if (range.first < 0 || range.last >= kClusterSlots || range.first > range.last) {
      return absl::InternalError(
          absl::StrCat("CLUSTER SLOTS: bad slot range ", range.first, "-", range.last));
    }
    size_t index = 0;
    while (index < map.primaries.size() && (map.primaries[index].host != range.primary.host ||
                                            map.primaries[index].port != range.primary.port)) {
      ++index;
    }
    if (index == map.primaries.size()) map.primaries.push_back(range.primary);
    for (int slot = range.first; slot <= range.last; ++slot) {
      if (map.owner[slot] != kNone) {
        return absl::InternalError(absl::StrCat("CLUSTER SLOTS: slot ", slot, " is in two ranges"));
      }
      map.owner[slot] = static_cast<uint16_t>(index);
    }
  }
  const auto hole = std::find(map.owner.begin(), map.owner.end(), kNone);
  if (hole != map.owner.end()) {
    const int first = static_cast<int>(hole - map.owner.begin());
    int last = first;
    while (last + 1 < kClusterSlots && map.owner[last + 1] == kNone) ++last;
    const int uncovered = static_cast<int>(std::count(map.owner.begin(), map.owner.end(), kNone));
    return absl::FailedPreconditionError(absl::StrCat(
        "the cluster's slot map has holes: ", uncovered, " of ", kClusterSlots,
        " slots have no node (first: ",
        first == last ? absl::StrCat("slot ", first) : absl::StrCat("slots ", first, "-", last),
        "); is the cluster fully set up?"));
  }
  return map;
}

namespace {

// "calls=3,usec=40,usec_per_call=13.33" plus the same line of another node:
// the integer fields summed, the others kept from `line`.
std::string SumFields(std::string_view line, std::string_view other) {
  std::map<std::string, int64_t> extra;
  for (absl::string_view field : absl::StrSplit(Sv(other), ',')) {
    const size_t eq = field.find('=');
    int64_t n = 0;
    if (eq != absl::string_view::npos && absl::SimpleAtoi(field.substr(eq + 1), &n)) {
      extra[std::string(field.substr(0, eq))] = n;
    }
  }
  std::vector<std::string> fields;
  for (absl::string_view field : absl::StrSplit(Sv(line), ',')) {
    const size_t eq = field.find('=');
    int64_t n = 0;
    if (eq == absl::string_view::npos || !absl::SimpleAtoi(field.substr(eq + 1), &n)) {
      fields.emplace_back(field);
      continue;
    }
    auto it = extra.find(std::string(field.substr(0, eq)));
    fields.push_back(
        absl::StrCat(field.substr(0, eq + 1), n + (it == extra.end() ? 0 : it->second)));
  }
  return absl::StrJoin(fields, ",");
}

}  // namespace

std::string MergeInfo(const std::vector<std::string>& infos) {
  if (infos.empty()) return "";
  std::vector<std::map<std::string, std::string>> others;
  for (size_t i = 1; i < infos.size(); ++i) {
    others.emplace_back();
    for (auto& [name, value] : ParseInfo(infos[i])) others.back()[name] = std::move(value);
  }
  const std::vector<std::pair<std::string, std::string>> first =
      ParseInfo(infos[0], /*keep_headers=*/true);
  std::set<std::string> in_first;
  for (const auto& [name, value] : first) in_first.insert(name);
  std::string merged;
  // Commandstats and errorstats list only the commands (errors) a node saw:
  // the other primaries' lines the first lacks go at the end of the section,
  // summed over them.
  auto add_others = [&](absl::string_view prefix) {
    if (prefix.empty()) return;
    std::map<std::string, std::string> extra;
    for (const auto& other : others) {
      for (const auto& [name, value] : other) {
        if (!absl::StartsWith(Sv(name), prefix) || in_first.count(name) > 0) continue;
        auto [it, added] = extra.emplace(name, value);
        if (!added) it->second = SumFields(it->second, value);
      }
    }
    for (const auto& [name, value] : extra) absl::StrAppend(&merged, Sv(name), ":", value, "\r\n");
  };
  bool server = false;
  absl::string_view stats_prefix;  // of the section's lines: cmdstat_, errorstat_ or none
  for (const auto& [name, value] : first) {
    if (name[0] == '#') {
      add_others(stats_prefix);
      server = absl::EqualsIgnoreCase(Sv(name), "# Server");
      stats_prefix = absl::EqualsIgnoreCase(Sv(name), "# Commandstats") ? "cmdstat_"
                     : absl::EqualsIgnoreCase(Sv(name), "# Errorstats") ? "errorstat_"
                                                                        : "";
      absl::StrAppend(&merged, Sv(name), "\r\n");
      continue;
    }
    if (server && (name == "process_id" || name == "tcp_port")) continue;
    if (absl::StartsWith(Sv(name), "cmdstat_") || absl::StartsWith(Sv(name), "errorstat_")) {
      std::string summed = value;
      for (const auto& other : others) {
        if (auto it = other.find(name); it != other.end()) summed = SumFields(summed, it->second);
      }
      absl::StrAppend(&merged, Sv(name), ":", summed, "\r\n");
      continue;
    }
    const bool least = server && absl::StartsWith(Sv(name), "uptime_in_");
    int64_t total = 0;
    bool numeric = (!server || least) && absl::SimpleAtoi(Sv(value), &total);
    for (size_t i = 0; numeric && i < others.size(); ++i) {
      auto it = others[i].find(name);
      int64_t other = 0;
      if (it == others[i].end()) continue;
      numeric = absl::SimpleAtoi(Sv(it->second), &other);
      total = least ? std::min(total, other) : total + other;
    }
    absl::StrAppend(&merged, Sv(name), ":", numeric ? absl::StrCat(total) : std::string(value),
                    "\r\n");
  }
  add_others(stats_prefix);
  return merged;
}

namespace {

constexpr int kMaxRedirects = 5;
constexpr char kAsking[] = "ASKING";
constexpr char kCluster[] = "CLUSTER";
constexpr char kSlots[] = "SLOTS";

// Parses a CLUSTER SLOTS reply; an empty or "?" host means `asked`'s host.
absl::StatusOr<std::vector<SlotRange>> ParseClusterSlots(const redisReply& reply,
                                                         const RedisConnection& asked) {
  if (reply.type != REDIS_REPLY_ARRAY) return asked.Unexpected("CLUSTER SLOTS", reply);
  std::vector<SlotRange> ranges;
  for (size_t i = 0; i < reply.elements; ++i) {
    const redisReply& entry = *reply.element[i];
    if (entry.type != REDIS_REPLY_ARRAY || entry.elements < 3 ||
        entry.element[0]->type != REDIS_REPLY_INTEGER ||
        entry.element[1]->type != REDIS_REPLY_INTEGER ||
        entry.element[2]->type != REDIS_REPLY_ARRAY || entry.element[2]->elements < 2 ||
        entry.element[2]->element[0]->type != REDIS_REPLY_STRING ||
        entry.element[2]->element[1]->type != REDIS_REPLY_INTEGER) {
      return absl::InternalError(
          absl::StrCat("redis ", asked.address(), ": CLUSTER SLOTS: malformed entry ", i));
    }
    SlotRange range;
    range.first = static_cast<int>(entry.element[0]->integer);
    range.last = static_cast<int>(entry.element[1]->integer);
    const redisReply& node = *entry.element[2];
    range.primary.host = std::string(ReplyText(*node.element[0]));
    if (range.primary.host.empty() || range.primary.host == "?") {
      range.primary.host = asked.host();
    }
    range.primary.port = static_cast<int>(node.element[1]->integer);
    ranges.push_back(std::move(range));
  }
  return ranges;
}

class RedisClusterClient final : public KeyCommandClient {
 public:
  explicit RedisClusterClient(const CacheEndpoint& endpoint) : endpoint_(endpoint) {
    for (const CacheNode& seed : endpoint.seeds) NodeIndex(seed.host, seed.port);
  }

  absl::StatusOr<int64_t> DeletePrefix(std::string_view prefix) override {
    return SumOverPrimaries([prefix](RedisConnection& c) { return c.DeletePrefix(prefix, true); });
  }
  absl::StatusOr<int64_t> CountPrefix(std::string_view prefix) override {
    return SumOverPrimaries([prefix](RedisConnection& c) { return c.CountPrefix(prefix); });
  }
  absl::StatusOr<int64_t> DbSize() override {
    return SumOverPrimaries([](RedisConnection& c) { return c.DbSize(); });
  }
  absl::StatusOr<std::string> ClientList() override {
    std::string lines;
    absl::Status s = ForEachPrimary([&lines](RedisConnection& c) {
      absl::StatusOr<std::string> list = c.ClientList();
      if (list.ok()) absl::StrAppend(&lines, *list);
      return list.status();
    });
    if (!s.ok()) return s;
    return lines;
  }
  absl::StatusOr<KvCommands> Commands() const override {
    KvCommands total;
    for (const Node& node : nodes_) {
      total.sent += node.conn->commands().sent;
      total.refused += node.conn->commands().refused;
      total.unsure += node.conn->commands().unsure;
      total.scripted += node.conn->commands().scripted;
    }
    return total;
  }
  absl::Status Ping() override {
    return ForEachPrimary([](RedisConnection& c) { return c.Ping(); });
  }
  absl::StatusOr<std::string> ServerInfo() override {
    absl::StatusOr<RedisConnection*> first = Primary(0);
    if (!first.ok()) return first.status();
    return (*first)->ServerInfo();
  }
  absl::StatusOr<std::string> Info(std::string_view section) override;
  absl::StatusOr<std::string> ConfigGet(std::string_view name) override;
  absl::Status ConfigSet(std::string_view name, std::string_view value) override;
  absl::Status Reconnect() override;
  absl::StatusOr<KvRouting> Routing() const override;

 private:
  struct Node {
    std::unique_ptr<RedisConnection> conn;
    bool connected_once = false;  // a later break waits for Reconnect()
    int64_t ops = 0;
  };

  absl::StatusOr<RedisConnection*> RunForKey(std::string_view key, int argc, const char** argv,
                                             const size_t* lens, ReplyPtr* reply) override;

  // The index of host:port in nodes_, added (not connected) if new.
  size_t NodeIndex(const std::string& host, int port);
  // Node `index`'s connection, connected first if it never was; a broken
  // one fails fast (Unavailable) until Reconnect().
  absl::StatusOr<RedisConnection*> Use(size_t index);
  absl::StatusOr<RedisConnection*> Primary(size_t i) { return Use(primaries_[i]); }
  // Reads CLUSTER SLOTS from a connected node, else the seeds.
  absl::Status RefreshSlots();
  absl::Status LoadSlots(RedisConnection& conn);
  template <typename Fn>
  absl::Status ForEachPrimary(Fn fn);
  template <typename Fn>
  absl::StatusOr<int64_t> SumOverPrimaries(Fn fn);

  const CacheEndpoint endpoint_;
  std::vector<Node> nodes_;          // every node seen; indexes are stable
  std::vector<size_t> primaries_;    // nodes_ indexes of the map's primaries
  std::vector<uint32_t> slot_node_;  // slot -> nodes_ index
  int64_t moved_ = 0;
  int64_t asks_ = 0;
  int64_t retries_ = 0;
  // Each primary's maxmemory before this client first changed it (address
  // -> value); empty when unchanged or put back.
  std::map<std::string, std::string> original_max_memory_;
};

size_t RedisClusterClient::NodeIndex(const std::string& host, int port) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].conn->host() == host && nodes_[i].conn->port() == port) return i;
  }
  nodes_.push_back(
      {std::make_unique<RedisConnection>(host, port, /*db=*/0, endpoint_.timeouts), false, 0});
  return nodes_.size() - 1;
}

absl::StatusOr<RedisConnection*> RedisClusterClient::Use(size_t index) {
  Node& node = nodes_[index];
  if (!node.connected_once) {
    // Tried once inside a call; if that fails, the node waits for Reconnect().
    node.connected_once = true;
    if (absl::Status s = node.conn->Connect(); !s.ok()) return s;
  }
  return node.conn.get();
}

absl::Status RedisClusterClient::LoadSlots(RedisConnection& conn) {
  const char* argv[] = {kCluster, kSlots};
  const size_t lens[] = {sizeof(kCluster) - 1, sizeof(kSlots) - 1};
  ReplyPtr reply;
  if (absl::Status s = conn.Run(2, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_ERROR) {
    const std::string_view text = ReplyText(*reply);
    if (absl::StrContains(Sv(text), "cluster support disabled")) {
      return absl::FailedPreconditionError(
          absl::StrCat("redis ", conn.address(), " is not a cluster (CLUSTER SLOTS: ", Sv(text),
                       "); use redis://HOST:PORT/DB for a single server"));
    }
    return conn.ServerError("CLUSTER SLOTS", *reply);
  }
  absl::StatusOr<std::vector<SlotRange>> ranges = ParseClusterSlots(*reply, conn);
  if (!ranges.ok()) return ranges.status();
  absl::StatusOr<SlotMap> map = BuildSlotMap(*ranges);
  if (!map.ok()) {
    return absl::Status(map.status().code(),
                        absl::StrCat("redis ", conn.address(), ": ", map.status().message()));
  }
  std::vector<size_t> index_of;
  for (const CacheNode& primary : map->primaries) {
    index_of.push_back(NodeIndex(primary.host, primary.port));
  }
  primaries_ = index_of;
  slot_node_.resize(kClusterSlots);
  for (int slot = 0; slot < kClusterSlots; ++slot) {
    slot_node_[slot] = static_cast<uint32_t>(index_of[map->owner[slot]]);
  }
  return absl::OkStatus();
}

absl::Status RedisClusterClient::RefreshSlots() {
  absl::Status last = absl::UnavailableError("redis cluster: no seed node");
  // Nodes already connected first (the seeds are nodes_[0..]), then any.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& node = nodes_[i];
      if (pass == 0 && node.conn->broken()) continue;
      if (pass == 1) {
        if (!node.conn->broken()) continue;
        if (absl::Status s = node.conn->Connect(); !s.ok()) {
          last = s;
          continue;
        }
        node.connected_once = true;
      }
      last = LoadSlots(*node.conn);
      // A node that answers with a bad map is not asked again: it is the answer.
      if (last.ok() || !absl::IsUnavailable(last)) return last;
    }
  }
  return last;
}

absl::Status RedisClusterClient::Reconnect() {
  if (absl::Status s = RefreshSlots(); !s.ok()) return s;
  for (size_t index : primaries_) {
    Node& node = nodes_[index];
    if (!node.conn->broken()) continue;
    if (absl::Status s = node.conn->Connect(); !s.ok()) return s;
    node.connected_once = true;
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisConnection*> RedisClusterClient::RunForKey(std::string_view key, int argc,
                                                               const char** argv,
                                                               const size_t* lens,
                                                               ReplyPtr* reply) {
  const int slot = KeySlot(key);
  size_t node = slot_node_[slot];
  bool asking = false;
  int redirects = 0;
  auto backoff = std::chrono::milliseconds(5);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(endpoint_.timeouts.io_ms);
  for (;;) {
    absl::StatusOr<RedisConnection*> conn = Use(node);
    if (!conn.ok()) return conn.status();
    ++nodes_[node].ops;
    if (asking) {
      const char* ask_argv[] = {kAsking};
      const size_t ask_lens[] = {sizeof(kAsking) - 1};
      if (absl::Status s = (*conn)->Run(1, ask_argv, ask_lens, reply); !s.ok()) return s;
      if ((*reply)->type != REDIS_REPLY_STATUS) return (*conn)->Unexpected(kAsking, **reply);
    }
    if (absl::Status s = (*conn)->Run(argc, argv, lens, reply); !s.ok()) return s;
    if ((*reply)->type != REDIS_REPLY_ERROR) return *conn;
    const std::string_view text = ReplyText(**reply);
    if (std::optional<Redirect> to = ParseRedirect(text)) {
      if (++redirects > kMaxRedirects) {
        return absl::InternalError(
            absl::StrCat("redis cluster: ", Sv(std::string_view(argv[0])), ": more than ",
                         kMaxRedirects, " redirects for slot ", slot, "; last: ", Sv(text)));
      }
      const size_t target = NodeIndex(to->host.empty() ? (*conn)->host() : to->host, to->port);
      if (to->ask) {
        ++asks_;
      } else {
        ++moved_;
        slot_node_[to->slot] = static_cast<uint32_t>(target);
        if (std::find(primaries_.begin(), primaries_.end(), target) == primaries_.end()) {
          primaries_.push_back(target);
        }
      }
      asking = to->ask;
      node = target;
      continue;
    }
    if (absl::StartsWith(Sv(text), "TRYAGAIN") || absl::StartsWith(Sv(text), "CLUSTERDOWN")) {
      if (std::chrono::steady_clock::now() + backoff < deadline) {
        ++retries_;
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
        node = slot_node_[slot];
        asking = false;
        continue;
      }
    }
    return *conn;  // any other error reply: the caller reports it
  }
}

template <typename Fn>
absl::Status RedisClusterClient::ForEachPrimary(Fn fn) {
  for (size_t i = 0; i < primaries_.size(); ++i) {
    absl::StatusOr<RedisConnection*> conn = Primary(i);
    if (!conn.ok()) return conn.status();
    if (absl::Status s = fn(**conn); !s.ok()) return s;
  }
  return absl::OkStatus();
}

template <typename Fn>
absl::StatusOr<int64_t> RedisClusterClient::SumOverPrimaries(Fn fn) {
  int64_t sum = 0;
  absl::Status s = ForEachPrimary([&](RedisConnection& conn) {
    absl::StatusOr<int64_t> part = fn(conn);
    if (part.ok()) sum += *part;
    return part.status();
  });
  if (!s.ok()) return s;
  return sum;
}

absl::StatusOr<std::string> RedisClusterClient::Info(std::string_view section) {
  std::vector<std::string> infos;
  absl::Status s = ForEachPrimary([&](RedisConnection& conn) {
    absl::StatusOr<std::string> info = conn.Info(section);
    if (info.ok()) infos.push_back(*std::move(info));
    return info.status();
  });
  if (!s.ok()) return s;
  return MergeInfo(infos);
}

absl::StatusOr<std::string> RedisClusterClient::ConfigGet(std::string_view name) {
  if (name != "maxmemory") {
    absl::StatusOr<RedisConnection*> first = Primary(0);
    if (!first.ok()) return first.status();
    return (*first)->ConfigGet(name);
  }
  absl::StatusOr<int64_t> total = SumOverPrimaries([name](RedisConnection& conn) {
    absl::StatusOr<std::string> value = conn.ConfigGet(name);
    if (!value.ok()) return absl::StatusOr<int64_t>(value.status());
    int64_t bytes = 0;
    if (!absl::SimpleAtoi(*value, &bytes)) {
      return absl::StatusOr<int64_t>(absl::InternalError(
          absl::StrCat("redis ", conn.address(), ": maxmemory is not a number: ", *value)));
    }
    return absl::StatusOr<int64_t>(bytes);
  });
  if (!total.ok()) return total.status();
  return absl::StrCat(*total);
}

absl::Status RedisClusterClient::ConfigSet(std::string_view name, std::string_view value) {
  int64_t total = 0;
  if (name != "maxmemory" || !absl::SimpleAtoi(Sv(value), &total) || total <= 0) {
    original_max_memory_.clear();  // "0": no limit anywhere, as it was
    return ForEachPrimary([&](RedisConnection& conn) { return conn.ConfigSet(name, value); });
  }
  // Each primary's own value, kept at the first change, so that setting the
  // total they had puts each back as it was.
  if (original_max_memory_.empty()) {
    absl::Status s = ForEachPrimary([this](RedisConnection& conn) {
      absl::StatusOr<std::string> v = conn.ConfigGet("maxmemory");
      if (v.ok()) original_max_memory_[conn.address()] = *v;
      return v.status();
    });
    if (!s.ok()) {
      original_max_memory_.clear();
      return s;
    }
  }
  int64_t original_total = 0;
  for (const auto& [address, v] : original_max_memory_) {
    int64_t bytes = 0;
    if (absl::SimpleAtoi(v, &bytes)) original_total += bytes;
  }
  if (total == original_total) {
    absl::Status s = ForEachPrimary([this](RedisConnection& conn) {
      auto it = original_max_memory_.find(conn.address());
      return it == original_max_memory_.end() ? absl::OkStatus()
                                              : conn.ConfigSet("maxmemory", it->second);
    });
    original_max_memory_.clear();
    return s;
  }
  // A primary's memory besides the keys (its tables, buffers, scripts)
  // differs from another's by more than a small cache's room: each gets what
  // it uses now plus an even share of the rest, never 0 (no limit).
  std::map<std::string, int64_t> used;
  int64_t used_total = 0;
  absl::Status s = ForEachPrimary([&](RedisConnection& conn) {
    absl::StatusOr<std::string> info = conn.Info("memory");
    if (!info.ok()) return info.status();
    const std::optional<int64_t> bytes = InfoInt(*info, "used_memory");
    if (!bytes.has_value()) {
      return absl::InternalError(
          absl::StrCat("redis ", conn.address(), ": INFO has no used_memory"));
    }
    used[conn.address()] = *bytes;
    used_total += *bytes;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  const int64_t n = std::max<int64_t>(1, static_cast<int64_t>(used.size()));
  const int64_t share = (total - used_total) / n;
  return ForEachPrimary([&](RedisConnection& conn) {
    return conn.ConfigSet("maxmemory",
                          absl::StrCat(std::max<int64_t>(1, used[conn.address()] + share)));
  });
}

absl::StatusOr<KvRouting> RedisClusterClient::Routing() const {
  KvRouting routing;
  routing.moved_redirects = moved_;
  routing.ask_redirects = asks_;
  routing.retries = retries_;
  routing.primaries = static_cast<int64_t>(primaries_.size());
  for (const Node& node : nodes_) {
    if (node.ops > 0) routing.node_ops[node.conn->address()] += node.ops;
  }
  for (size_t index : primaries_) {
    routing.node_ops.emplace(nodes_[index].conn->address(), 0);
    routing.primary_nodes.push_back(nodes_[index].conn->address());
  }
  return routing;
}

}  // namespace
}  // namespace internal

absl::StatusOr<std::unique_ptr<KvClient>> NewRedisClusterClient(const CacheEndpoint& endpoint) {
  if (!endpoint.cluster || endpoint.seeds.empty()) {
    return absl::InvalidArgumentError("redis cluster endpoint: no seed nodes");
  }
  if (endpoint.db != 0) {
    return absl::InvalidArgumentError(absl::StrCat("redis cluster endpoint: database ", endpoint.db,
                                                   ": a cluster has only database 0"));
  }
  for (const CacheNode& seed : endpoint.seeds) {
    CacheEndpoint one = endpoint;
    one.host = seed.host;
    one.port = seed.port;
    if (absl::Status s = internal::ValidateCacheEndpoint(one); !s.ok()) return s;
  }
  internal::IgnoreSigpipeOnce();
  auto client = std::make_unique<internal::RedisClusterClient>(endpoint);
  if (absl::Status s = client->Reconnect(); !s.ok()) return s;
  return std::unique_ptr<KvClient>(std::move(client));
}

}  // namespace cabench
