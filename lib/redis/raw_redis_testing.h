// File: lib/redis/raw_redis_testing.h
//
// For integration tests only: a plain hiredis connection for what KvClient
// does not offer (PTTL, CLIENT KILL, CLUSTER SETSLOT, MIGRATE ...). Replies
// are copied out, so no hiredis memory escapes. Header-only; not thread-safe.
#ifndef CABENCH_LIB_REDIS_RAW_REDIS_TESTING_H_
#define CABENCH_LIB_REDIS_RAW_REDIS_TESTING_H_

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/config/endpoints.h"

namespace cabench {

class RawRedis {
 public:
  struct Reply {
    int type = 0;
    std::string str;
    long long integer = 0;
    std::vector<std::string> elements;  // an array's strings
  };

  explicit RawRedis(const CacheEndpoint& endpoint) {
    timeval tv = {2, 0};
    context_.reset(redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, tv));
  }

  bool ok() const { return context_ != nullptr && context_->err == 0; }

  std::optional<Reply> Command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::string& arg : args) {
      argv.push_back(arg.c_str());
      lens.push_back(arg.size());
    }
    void* raw =
        redisCommandArgv(context_.get(), static_cast<int>(args.size()), argv.data(), lens.data());
    if (raw == nullptr) return std::nullopt;
    auto* r = static_cast<redisReply*>(raw);
    Reply reply;
    reply.type = r->type;
    if (r->str != nullptr) reply.str.assign(r->str, r->len);
    reply.integer = r->integer;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
      const redisReply* e = r->element[i];
      reply.elements.emplace_back(e->str != nullptr ? std::string(e->str, e->len) : std::string());
    }
    freeReplyObject(r);
    return reply;
  }

 private:
  struct Deleter {
    void operator()(redisContext* c) const { redisFree(c); }
  };
  std::unique_ptr<redisContext, Deleter> context_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_REDIS_RAW_REDIS_TESTING_H_
