#include "lib/workload/key_trace.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace cabench {
namespace {

namespace fs = std::filesystem;

constexpr int kCsvFields = 7;
constexpr const char* kCsvShape = "timestamp,key,key_size,value_size,client_id,operation,ttl";
constexpr const char* kReadOps[] = {"get", "gets"};
constexpr const char* kWriteOps[] = {"set",    "add",     "cas",  "replace", "delete",
                                     "append", "prepend", "incr", "decr"};

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

absl::string_view Trim(absl::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// User text in a one-line message: escaped and cut short.
std::string Quote(absl::string_view text) {
  constexpr size_t kMaxShown = 40;
  std::string shown = absl::CHexEscape(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) absl::StrAppend(&shown, "...");
  return absl::StrCat("'", shown, "'");
}

// Digits only, fitting int64 (no sign, no blanks).
bool ParseWhole(absl::string_view text, int64_t* out) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  const std::from_chars_result r = std::from_chars(text.data(), text.data() + text.size(), *out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

// Builds a KeyTrace one line at a time; the format is fixed by the first
// line with data.
class TraceBuilder {
 public:
  TraceBuilder(absl::string_view source, const KeyTraceLimits& limits)
      : source_(source), limits_(limits), trace_(std::make_shared<KeyTrace>()) {
    trace_->source = std::string(source);
  }

  absl::Status AddLine(absl::string_view raw, int64_t line) {
    if (static_cast<int64_t>(raw.size()) > limits_.max_line) {
      return Error(line, absl::StrCat("the line is longer than ", limits_.max_line,
                                      " characters"));
    }
    const absl::string_view text = Trim(raw);
    if (text.empty() || text.front() == '#') return absl::OkStatus();
    if (static_cast<int64_t>(trace_->passenger_ids.size()) >= limits_.max_ops) {
      return Error(line, absl::StrCat("more than ", limits_.max_ops,
                                      " operations, the most a trace may have (cut the file)"));
    }
    if (format_ == Format::kUnknown) {
      format_ = std::count(text.begin(), text.end(), ',') >= 2 ? Format::kCsv : Format::kIds;
    }
    return format_ == Format::kCsv ? AddCsv(text, line) : AddIds(text, line);
  }

  absl::StatusOr<std::shared_ptr<const KeyTrace>> Finish() {
    if (trace_->passenger_ids.empty()) {
      return Error(1, "the trace has no operations (an empty file, or only blank and '#' lines)");
    }
    if (format_ == Format::kCsv) {
      trace_->distinct_keys = static_cast<int64_t>(key_ids_.size());
      key_ids_.clear();
    } else {
      std::vector<int64_t> ids = trace_->passenger_ids;
      std::sort(ids.begin(), ids.end());
      trace_->distinct_keys = std::unique(ids.begin(), ids.end()) - ids.begin();
    }
    trace_->passenger_ids.shrink_to_fit();
    trace_->is_read.shrink_to_fit();
    return std::shared_ptr<const KeyTrace>(std::move(trace_));
  }

  absl::Status Error(int64_t line, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ":", line, ": ", message));
  }

 private:
  enum class Format { kUnknown, kIds, kCsv };

  void Add(int64_t id, bool is_read) {
    trace_->passenger_ids.push_back(id);
    trace_->is_read.push_back(is_read);
  }

  // `42`, `42 r`, `42,w`.
  absl::Status AddIds(absl::string_view text, int64_t line) {
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    int64_t id = 0;
    if (digits == 0 || !ParseWhole(text.substr(0, digits), &id) || id < 1) {
      return Error(line, absl::StrCat("expected a passenger id (a whole number from 1 to "
                                      "9223372036854775807) and an optional r or w, got ",
                                      Quote(text)));
    }
    const absl::string_view after = text.substr(digits);  // no trailing blanks
    if (after.empty()) {
      Add(id, true);
      return absl::OkStatus();
    }
    // The kind follows blanks, or a comma with optional blanks around it.
    absl::string_view kind = Trim(after);
    bool separated = IsBlank(after.front());
    if (!kind.empty() && kind.front() == ',') {
      kind = Trim(kind.substr(1));
      separated = true;
    }
    if (separated && (kind == "r" || kind == "w")) {
      Add(id, kind == "r");
      return absl::OkStatus();
    }
    return Error(line, absl::StrCat("expected r or w after the passenger id, got ",
                                    Quote(Trim(after)), " (a line is `42`, `42 r` or `42,w`)"));
  }

  // timestamp,key,key_size,value_size,client_id,operation,ttl
  absl::Status AddCsv(absl::string_view text, int64_t line) {
    const std::vector<absl::string_view> f = absl::StrSplit(text, ',');
    if (f.size() != kCsvFields) {
      return Error(line, absl::StrCat("expected ", kCsvFields, " comma-separated fields (",
                                      kCsvShape, "), got ", f.size()));
    }
    constexpr int kWhole[] = {0, 2, 3, 6};
    constexpr const char* kNames[] = {"timestamp", "key",       "key_size", "value_size",
                                      "client_id", "operation", "ttl"};
    for (int i : kWhole) {
      int64_t ignored;
      if (!ParseWhole(f[static_cast<size_t>(i)], &ignored)) {
        return Error(line, absl::StrCat(kNames[i], ": expected a whole number, got ",
                                        Quote(f[static_cast<size_t>(i)])));
      }
    }
    if (f[1].empty()) return Error(line, "key: empty");
    if (f[4].empty()) return Error(line, "client_id: empty");
    const absl::string_view op = f[5];
    const auto is = [op](const char* name) { return op == name; };
    bool is_read;
    if (std::any_of(std::begin(kReadOps), std::end(kReadOps), is)) {
      is_read = true;
    } else if (std::any_of(std::begin(kWriteOps), std::end(kWriteOps), is)) {
      is_read = false;
    } else {
      return Error(line, absl::StrCat("operation: unknown ", Quote(op),
                                      " (reads: get, gets; writes: set, add, cas, replace, "
                                      "delete, append, prepend, incr, decr)"));
    }
    const auto [it, inserted] =
        key_ids_.emplace(std::string(f[1]), static_cast<int64_t>(key_ids_.size()) + 1);
    Add(it->second, is_read);
    return absl::OkStatus();
  }

  std::string source_;
  KeyTraceLimits limits_;
  Format format_ = Format::kUnknown;
  std::shared_ptr<KeyTrace> trace_;
  std::unordered_map<std::string, int64_t> key_ids_;  // csv: key -> id
};

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::StatusOr<std::shared_ptr<const KeyTrace>> ParseKeyTrace(std::string_view text,
                                                              std::string_view source,
                                                              const KeyTraceLimits& limits) {
  TraceBuilder builder(ToAbsl(source), limits);
  int64_t line = 0;
  for (absl::string_view l : absl::StrSplit(ToAbsl(text), '\n')) {
    ++line;
    if (absl::Status s = builder.AddLine(l, line); !s.ok()) return s;
  }
  return builder.Finish();
}

absl::StatusOr<std::shared_ptr<const KeyTrace>> LoadKeyTrace(const std::string& path,
                                                            const KeyTraceLimits& limits) {
  const auto cannot_read = [&path](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: ", why));
  };
  try {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) return cannot_read("no such file");
    if (!fs::is_regular_file(status)) return cannot_read("not a regular file");
    const std::uintmax_t size = fs::file_size(path, ec);
    if (!ec && size > static_cast<std::uintmax_t>(limits.max_bytes)) {
      return cannot_read(absl::StrCat(size, " bytes is larger than the ", limits.max_bytes,
                                      " bytes a trace may have"));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return cannot_read(std::strerror(errno));
    TraceBuilder builder(path, limits);
    int64_t line = 0;
    for (std::string l; std::getline(in, l);) {
      ++line;
      if (absl::Status s = builder.AddLine(l, line); !s.ok()) return s;
    }
    if (in.bad()) return cannot_read(std::strerror(errno));
    return builder.Finish();
  } catch (const std::exception& e) {
    return cannot_read(e.what());
  }
}

}  // namespace cabench
