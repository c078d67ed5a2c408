#include "lib/config/endpoints.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace cabench {
namespace {

constexpr absl::string_view kCacheScheme = "redis://";
constexpr absl::string_view kClusterScheme = "redis-cluster://";
constexpr absl::string_view kDbScheme = "mysql://";
constexpr absl::string_view kCacheForm =
    "redis://HOST:PORT/DB or redis-cluster://HOST:PORT[,HOST:PORT...]/0";
constexpr size_t kMaxSeeds = 64;
constexpr absl::string_view kDbForm = "mysql://USER@HOST:PORT/SCHEMA";
constexpr char kStartServers[] = "eval \"$(tools/servers start)\"";

// Quotes `s` for an error message, escaping control characters so that the
// message stays on one line.
std::string Quote(absl::string_view s) {
  return absl::StrCat("'", absl::CHexEscape(s), "'");
}

bool IsHostNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '.' || c == '_';
}

// Validates a host as it appears in a URL (IPv6 still in brackets) and returns
// it without brackets. `url` is only used in messages (it never carries a
// password when this runs).
absl::StatusOr<std::string> ParseHost(absl::string_view host,
                                      absl::string_view url) {
  if (host.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("missing host in ", Quote(url)));
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed bracketed IPv6 address in ", Quote(url)));
    }
    std::string inner(host.substr(1, host.size() - 2));
    in6_addr addr;
    if (inet_pton(AF_INET6, inner.c_str(), &addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid IPv6 address ", Quote(inner), " in ", Quote(url)));
    }
    return inner;
  }
  bool numeric = true;
  for (char c : host) {
    if (!IsHostNameChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid character ", Quote(absl::string_view(&c, 1)),
                       " in host of ", Quote(url)));
    }
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.')
      numeric = false;
  }
  if (host.size() > 253 || host.front() == '.' || host.front() == '-' ||
      host.back() == '-' || host.find("..") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid host name in ", Quote(url)));
  }
  std::string result(host);
  if (numeric) {
    in_addr addr;
    if (inet_pton(AF_INET, result.c_str(), &addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid IPv4 address ", Quote(host), " in ", Quote(url)));
    }
  }
  return result;
}

// Parses a decimal number in [min, max]; `what` names it in messages.
absl::StatusOr<int> ParseBoundedInt(absl::string_view text, int min, int max,
                                    absl::string_view what,
                                    absl::string_view url) {
  if (text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing ", what, " number in ", Quote(url)));
  }
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " ", Quote(text), " is not a number in ", Quote(url)));
    }
  }
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", Quote(text), " is out of range ", min, "..",
                     max, " in ", Quote(url)));
  }
  return value;
}

struct HostPort {
  std::string host;
  int port = 0;
};

// Parses "HOST[:PORT]" where HOST may be a bracketed IPv6 address.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view authority,
                                       int default_port,
                                       absl::string_view url) {
  absl::string_view host = authority;
  absl::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing ']' after IPv6 address in ", Quote(url)));
    }
    host = authority.substr(0, close + 1);
    absl::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return absl::InvalidArgumentError(absl::StrCat(
            "unexpected ", Quote(rest), " after IPv6 address in ", Quote(url)));
      }
      has_port = true;
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    if (colon != absl::string_view::npos) {
      if (authority.find(':', colon + 1) != absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("too many ':' in host (IPv6 addresses go in brackets, "
                         "e.g. [::1]:6379) in ",
                         Quote(url)));
      }
      host = authority.substr(0, colon);
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
  }
  HostPort result;
  absl::StatusOr<std::string> parsed_host = ParseHost(host, url);
  if (!parsed_host.ok()) return parsed_host.status();
  result.host = *std::move(parsed_host);
  result.port = default_port;
  if (has_port) {
    absl::StatusOr<int> port =
        ParseBoundedInt(port_text, 1, 65535, "port", url);
    if (!port.ok()) return port.status();
    result.port = *port;
  }
  return result;
}

bool IsSpaceOrControl(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

absl::Status CheckNoWhitespace(absl::string_view url) {
  for (char c : url) {
    if (IsSpaceOrControl(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("whitespace or control character in ", Quote(url)));
    }
  }
  return absl::OkStatus();
}

// Brackets an IPv6 address for use in a URL.
std::string UrlHost(const std::string& host) {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]");
  return host;
}

// Returns the non-empty value of `name`, or nullptr.
const char* GetEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return nullptr;
  return value;
}

absl::Status PrefixError(absl::string_view variable,
                         const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(variable, ": ", status.message()));
}

// Reads the first line of the file at `path`, trimmed of surrounding
// whitespace (including a trailing "\r"). Messages name the variable and the
// path, never the file's content.
absl::StatusOr<std::string> ReadPasswordFile(const char* path) {
  constexpr absl::string_view kVar = "CABENCH_DB_PASSWORD_FILE";
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return absl::InvalidArgumentError(absl::StrCat(
        kVar, ": cannot open ", Quote(path), ": ", std::strerror(err)));
  }
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kVar, ": ", Quote(path), " is not a regular file"));
  }
  // A password is one short line: read at most 64 KiB and stop at the newline.
  constexpr size_t kMaxBytes = 64 * 1024;
  std::string content;
  char buf[4096];
  while (content.size() < kMaxBytes &&
         content.find('\n') == std::string::npos) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      return absl::InvalidArgumentError(absl::StrCat(
          kVar, ": cannot read ", Quote(path), ": ", std::strerror(err)));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  size_t newline = content.find('\n');
  if (newline != std::string::npos) content.resize(newline);
  return std::string(absl::StripAsciiWhitespace(content));
}

}  // namespace

std::string CacheEndpoint::ToString() const {
  if (!cluster) return absl::StrCat(kCacheScheme, UrlHost(host), ":", port, "/", db);
  std::string url(kClusterScheme);
  for (size_t i = 0; i < seeds.size(); ++i) {
    absl::StrAppend(&url, i == 0 ? "" : ",", UrlHost(seeds[i].host), ":", seeds[i].port);
  }
  absl::StrAppend(&url, "/", db);
  return url;
}

std::string DbEndpoint::ToString() const {
  return absl::StrCat(kDbScheme, user, "@", UrlHost(host), ":", port, "/",
                      schema);
}

absl::StatusOr<CacheEndpoint> ParseCacheUrl(std::string_view std_url) {
  const absl::string_view url(std_url.data(), std_url.size());
  if (url.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("empty URL, expected ", kCacheForm));
  // Checked before anything quotes the URL: "redis://:secret@host" carries a
  // password, and cabench's cache takes no credentials.
  if (url.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("credentials (USER:PASSWORD@) in the cache URL are not "
                     "supported; expected ",
                     kCacheForm));
  }
  if (absl::Status s = CheckNoWhitespace(url); !s.ok()) return s;
  CacheEndpoint endpoint;
  endpoint.cluster = absl::StartsWith(url, kClusterScheme);
  if (!endpoint.cluster && !absl::StartsWith(url, kCacheScheme)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", kCacheForm, ", got ", Quote(url)));
  }
  absl::string_view rest =
      url.substr(endpoint.cluster ? kClusterScheme.size() : kCacheScheme.size());
  size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  // A cluster URL lists its seeds separated by commas; a redis:// URL has one.
  std::vector<absl::string_view> nodes = {authority};
  if (endpoint.cluster) nodes = absl::StrSplit(authority, ',');
  for (absl::string_view node : nodes) {
    if (nodes.size() > 1 && node.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("empty node in the list of ", Quote(url)));
    }
    absl::StatusOr<HostPort> host_port = ParseHostPort(node, endpoint.port, url);
    if (!host_port.ok()) return host_port.status();
    endpoint.seeds.push_back({std::move(host_port->host), host_port->port});
  }
  if (endpoint.seeds.size() > kMaxSeeds) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kMaxSeeds, " nodes in ", Quote(url)));
  }
  endpoint.host = endpoint.seeds.front().host;
  endpoint.port = endpoint.seeds.front().port;
  if (!endpoint.cluster) endpoint.seeds.clear();
  if (slash != absl::string_view::npos) {
    absl::string_view path = rest.substr(slash + 1);
    if (!path.empty()) {
      absl::StatusOr<int> db = ParseBoundedInt(path, 0, 15, "database", url);
      if (!db.ok()) return db.status();
      endpoint.db = *db;
    }
  }
  if (endpoint.cluster && endpoint.db != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "database ", endpoint.db, ": a cluster has only database 0, in ", Quote(url)));
  }
  return endpoint;
}

absl::StatusOr<DbEndpoint> ParseDbUrl(std::string_view std_url) {
  const absl::string_view url(std_url.data(), std_url.size());
  // No message quotes the URL until it is known to carry no password.
  if (url.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("empty URL, expected ", kDbForm));
  if (!absl::StartsWith(url, kDbScheme)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the URL must start with ", kDbScheme, " (expected ", kDbForm, ")"));
  }
  absl::string_view rest = url.substr(kDbScheme.size());
  size_t at = rest.find('@');
  if (at == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing USER@ (expected ", kDbForm, ")"));
  }
  absl::string_view user = rest.substr(0, at);
  if (user.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "a password in the URL (USER:PASSWORD@) is not allowed; put it in "
        "CABENCH_DB_PASSWORD "
        "or CABENCH_DB_PASSWORD_FILE");
  }
  if (rest.find('@', at + 1) != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than one '@' in the URL (expected ", kDbForm, ")"));
  }
  // From here on the URL holds no password and may be quoted.
  if (absl::Status s = CheckNoWhitespace(url); !s.ok()) return s;
  if (user.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("missing user in ", Quote(url)));
  for (char c : user) {
    if (absl::string_view("/?#[]%").find(c) != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid character ", Quote(absl::string_view(&c, 1)),
                       " in user of ", Quote(url)));
    }
  }
  if (user.size() > 80) {
    return absl::InvalidArgumentError(
        absl::StrCat("user longer than 80 characters in ", Quote(url)));
  }
  rest = rest.substr(at + 1);
  size_t slash = rest.find('/');
  DbEndpoint endpoint;
  endpoint.user = std::string(user);
  absl::StatusOr<HostPort> host_port =
      ParseHostPort(rest.substr(0, slash), endpoint.port, url);
  if (!host_port.ok()) return host_port.status();
  endpoint.host = std::move(host_port->host);
  endpoint.port = host_port->port;
  absl::string_view schema = slash == absl::string_view::npos
                                 ? absl::string_view()
                                 : rest.substr(slash + 1);
  if (schema.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("missing schema in ", Quote(url)));
  if (schema.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema longer than 64 characters in ", Quote(url)));
  }
  for (char c : schema) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return absl::InvalidArgumentError(absl::StrCat(
          "schema ", Quote(schema), " must be [A-Za-z0-9_]+ in ", Quote(url)));
    }
  }
  endpoint.schema = std::string(schema);
  return endpoint;
}

bool IsLoopbackHost(std::string_view std_host) {
  absl::string_view host(std_host.data(), std_host.size());
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (absl::EqualsIgnoreCase(host, "localhost") ||
      absl::EqualsIgnoreCase(host, "localhost.")) {
    return true;
  }
  std::string text(host);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.y.z, an IPv4 loopback address in IPv6 form.
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

absl::StatusOr<CacheEndpoint> CacheEndpointFromEnv() {
  constexpr absl::string_view kVar = "CABENCH_CACHE_URL";
  const char* url = GetEnv("CABENCH_CACHE_URL");
  if (url == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        kVar, " is not set; start the servers with: ", kStartServers));
  }
  absl::StatusOr<CacheEndpoint> endpoint = ParseCacheUrl(url);
  if (!endpoint.ok()) return PrefixError(kVar, endpoint.status());
  return endpoint;
}

namespace {

// `url` (named `what` in errors) with the password of the environment.
absl::StatusOr<DbEndpoint> DbEndpointWithPassword(const char* url, absl::string_view what) {
  absl::StatusOr<DbEndpoint> endpoint = ParseDbUrl(url);
  if (!endpoint.ok()) return PrefixError(what, endpoint.status());
  if (const char* password = GetEnv("CABENCH_DB_PASSWORD");
      password != nullptr) {
    endpoint->password = password;
  } else if (const char* path = GetEnv("CABENCH_DB_PASSWORD_FILE");
             path != nullptr) {
    absl::StatusOr<std::string> from_file = ReadPasswordFile(path);
    if (!from_file.ok()) return from_file.status();
    endpoint->password = *std::move(from_file);
  }
  return endpoint;
}

}  // namespace

absl::StatusOr<DbEndpoint> DbEndpointFromEnv() {
  constexpr absl::string_view kVar = "CABENCH_DB_URL";
  const char* url = GetEnv("CABENCH_DB_URL");
  if (url == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        kVar, " is not set; start the servers with: ", kStartServers));
  }
  return DbEndpointWithPassword(url, kVar);
}

absl::StatusOr<std::optional<CacheEndpoint>> CacheReadEndpointFromEnv() {
  constexpr absl::string_view kVar = "CABENCH_CACHE_READ_URL";
  const char* url = GetEnv("CABENCH_CACHE_READ_URL");
  if (url == nullptr) return std::nullopt;
  absl::StatusOr<CacheEndpoint> endpoint = ParseCacheUrl(url);
  if (!endpoint.ok()) return PrefixError(kVar, endpoint.status());
  return std::optional<CacheEndpoint>(*std::move(endpoint));
}

absl::StatusOr<std::optional<DbEndpoint>> DbReadEndpointFromEnv(const DbEndpoint& primary) {
  constexpr absl::string_view kVar = "CABENCH_DB_READ_URL";
  const char* url = GetEnv("CABENCH_DB_READ_URL");
  if (url == nullptr) return std::nullopt;
  absl::StatusOr<DbEndpoint> endpoint = ParseDbUrl(url);
  if (!endpoint.ok()) return PrefixError(kVar, endpoint.status());
  endpoint->password = primary.password;
  endpoint->timeouts = primary.timeouts;
  return std::optional<DbEndpoint>(*std::move(endpoint));
}

absl::StatusOr<SuiteEndpoints> ResolveEndpoints(const EndpointOptions& options) {
  SuiteEndpoints out;
  if (!options.cache_url.empty()) {
    absl::StatusOr<CacheEndpoint> cache = ParseCacheUrl(options.cache_url);
    if (!cache.ok()) return PrefixError("--cache_url", cache.status());
    out.cache = *std::move(cache);
  } else {
    absl::StatusOr<CacheEndpoint> cache = CacheEndpointFromEnv();
    if (!cache.ok()) return cache.status();
    out.cache = *std::move(cache);
  }
  absl::StatusOr<DbEndpoint> db = options.db_url.empty()
                                      ? DbEndpointFromEnv()
                                      : DbEndpointWithPassword(options.db_url.c_str(), "--db_url");
  if (!db.ok()) return db.status();
  out.db = *std::move(db);
  for (Timeouts* t : {&out.cache.timeouts, &out.db.timeouts}) {
    if (options.timeout_ms) t->io_ms = *options.timeout_ms;
    if (options.connect_timeout_ms) t->connect_ms = *options.connect_timeout_ms;
  }
  absl::StatusOr<std::optional<CacheEndpoint>> cache_read = CacheReadEndpointFromEnv();
  if (!cache_read.ok()) return cache_read.status();
  if (cache_read->has_value() && out.cache.cluster) {
    // A cluster's replicas are its own nodes (READONLY), not a second URL.
    return absl::InvalidArgumentError(
        "CABENCH_CACHE_READ_URL: read replicas are not supported with a cluster cache "
        "(redis-cluster://); unset one of them");
  }
  out.cache_read = *std::move(cache_read);
  if (out.cache_read.has_value()) out.cache_read->timeouts = out.cache.timeouts;
  absl::StatusOr<std::optional<DbEndpoint>> db_read = DbReadEndpointFromEnv(out.db);
  if (!db_read.ok()) return db_read.status();
  out.db_read = *std::move(db_read);
  if (!options.allow_remote) {
    std::vector<const std::string*> hosts = {&out.cache.host, &out.db.host};
    if (out.cache_read.has_value()) hosts.push_back(&out.cache_read->host);
    if (out.db_read.has_value()) hosts.push_back(&out.db_read->host);
    for (const CacheNode& seed : out.cache.seeds) hosts.push_back(&seed.host);
    for (const std::string* host : hosts) {
      if (!IsLoopbackHost(*host)) {
        return absl::InvalidArgumentError(
            absl::StrCat("endpoint host '", *host,
                         "' is not on loopback; pass --allow_remote to benchmark servers on "
                         "another machine"));
      }
    }
  }
  return out;
}

}  // namespace cabench
