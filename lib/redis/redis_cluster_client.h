// File: lib/redis/redis_cluster_client.h
//
// The KvClient (lib/clients/kv_client.h) for a Valkey/Redis Cluster, as a
// small routing layer over the single-node code (redis_connection.h):
//
//   ASSERT_OK_AND_ASSIGN(CacheEndpoint endpoint,
//       ParseCacheUrl("redis-cluster://127.0.0.1:26401,127.0.0.1:26402/0"));
//   absl::StatusOr<std::unique_ptr<KvClient>> client = NewRedisClusterClient(endpoint);
//
// Routing. The client reads the slot map (CLUSTER SLOTS) from the first seed
// that answers and keeps one connection per node. A key's slot is CRC16 of
// the key (or of its hash tag, the part between the first '{' and the next
// '}' when that part is not empty) modulo 16384. Error replies it handles
// itself, all within one call:
//   MOVED slot host:port   the slot's owner changed: the map is updated for
//                          that slot and the command is sent to the new owner;
//   ASK slot host:port     the slot is being migrated and the key may be on
//                          the target: ASKING, then the command, there, once;
//   TRYAGAIN, CLUSTERDOWN  sent again (from the slot map) after 5, 10, 20 ...
//                          100 ms, while the next attempt starts within the
//                          command timeout (timeouts.io_ms); then the error
//                          reply is the call's Internal error.
// At most 5 redirects per call (Internal beyond). A node first seen in a
// redirect is connected to then, inside the call (rare: a new owner).
//
// Commands on the whole keyspace go to every primary of the map:
// DeletePrefix and CountPrefix scan each (UNLINK one key per command,
// pipelined, since a node refuses multi-key commands across slots), DbSize
// and the counts of Info are summed, Ping asks each. Info(section): the
// "# Server" section is the first primary's, except uptime_in_seconds and
// uptime_in_days (the least over primaries: a restarted node shows) and
// process_id and tcp_port (left out: no single process serves a cluster);
// in the other sections integer values are summed over primaries, and so
// are the integer fields of the commandstats and errorstats lines
// ("cmdstat_get:calls=..,usec=..,rejected_calls=..": calls, usec,
// rejected_calls, failed_calls; not usec_per_call; a command only other
// primaries ran is added at the end of the section); the rest are the first
// primary's. ClientList concatenates every primary's CLIENT LIST;
// Commands sums every node's connection (each counts its own,
// redis_connection.h). ConfigGet/ConfigSet: "maxmemory" is the
// cluster's total (Get returns the sum); Set gives each primary the memory
// it uses now and an even share of the rest (the primaries' own memory
// besides keys differs by more than a small cache's room), and setting the
// total they had before the first Set puts each primary's own value back;
// "0" is no limit on any. Any other parameter is set on every primary and
// read from the first. ServerInfo describes the
// first primary.
//
// Failures: a node that does not answer breaks that node's connection only
// (Unavailable for its keys; other nodes' keys still work) until Reconnect(),
// which reads the slot map again and connects every primary that is not
// connected; it fails with Unavailable while one does not answer.
//
// Thread safety: like every KvClient, one per thread. Routing() reports its
// redirects and per-node command counts.
#ifndef CABENCH_LIB_REDIS_REDIS_CLUSTER_CLIENT_H_
#define CABENCH_LIB_REDIS_REDIS_CLUSTER_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/config/endpoints.h"

namespace cabench {

// Validates `endpoint` (a cluster endpoint: cluster set, one or more seeds,
// db 0, timeouts > 0), reads the slot map from the first seed that answers
// and connects to every primary. Fails with InvalidArgument (bad endpoint),
// Unavailable (no seed answers, or a primary does not), FailedPrecondition
// (the server is not a cluster: "cluster support disabled"; or the map
// leaves slots without a node) or Internal (a malformed CLUSTER SLOTS
// reply). Safe to call concurrently.
absl::StatusOr<std::unique_ptr<KvClient>> NewRedisClusterClient(const CacheEndpoint& endpoint);

namespace internal {

// Exposed for tests. All pure and thread-safe.

inline constexpr int kClusterSlots = 16384;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the cluster's
// key hash. Crc16("123456789") == 0x31C3.
uint16_t Crc16(std::string_view data);

// The slot of `key`: Crc16 of its hash tag if it has a non-empty one, else
// of the whole key, modulo 16384.
int KeySlot(std::string_view key);

// A MOVED or ASK error reply: "MOVED 3999 127.0.0.1:6381". An empty host
// ("MOVED 3999 :6381") means the host of the node that replied.
struct Redirect {
  bool ask = false;  // ASK; false: MOVED
  int slot = 0;
  std::string host;
  int port = 0;
};

// Parses the text of an error reply; nullopt when it is not a well-formed
// MOVED or ASK (slot 0..16383, port 1..65535; IPv6 hosts unbracketed, the
// port after the last ':').
std::optional<Redirect> ParseRedirect(std::string_view error);

// One range of CLUSTER SLOTS: slots first..last (inclusive) and the primary
// that serves them.
struct SlotRange {
  int first = 0;
  int last = 0;
  CacheNode primary;
};

// Which primary serves each slot: `primaries` in order of first appearance,
// `owner[slot]` an index into it.
struct SlotMap {
  std::vector<CacheNode> primaries;
  std::vector<uint16_t> owner;  // kClusterSlots entries
};

// Builds the map from CLUSTER SLOTS' ranges. Fails with FailedPrecondition
// naming the first uncovered slots ("slots 5461-10922 have no node") when a
// slot has no range (the cluster is not fully set up, or lost a node), and
// Internal when a range is out of 0..16383, reversed or overlaps another.
absl::StatusOr<SlotMap> BuildSlotMap(const std::vector<SlotRange>& ranges);

// Merges the INFO texts of a cluster's primaries as the file comment says
// (first: the first primary's). Output lines end in "\r\n".
std::string MergeInfo(const std::vector<std::string>& infos);

}  // namespace internal
}  // namespace cabench

#endif  // CABENCH_LIB_REDIS_REDIS_CLUSTER_CLIENT_H_
