// File: lib/metrics/json.h
//
// The little JSON that cabench writes by hand (result manifests, the
// benchmark parameters in a run's context): string literals and flat
// objects. JsonObject appends "key": value pairs in the order they are
// added; values are already JSON (JsonQuote() for strings, numbers as text).
//
// Thread safety: the functions are pure; a JsonObject is a plain value, NOT
// safe for concurrent use.
#ifndef CABENCH_LIB_METRICS_JSON_H_
#define CABENCH_LIB_METRICS_JSON_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cabench {

// A JSON string literal of `s`: quotes, backslashes and control characters
// escaped (bytes >= 0x80 are copied: the text is UTF-8). Pure.
std::string JsonQuote(std::string_view s);

// Parses a JSON object whose values are all strings ({"k": "v", ...}, as
// HistogramsJson() writes) into a map. InvalidArgument naming the offset for
// anything else: another value type, bad escapes, trailing text. Pure.
absl::StatusOr<std::map<std::string, std::string>> ParseFlatJsonStrings(std::string_view text);

class JsonObject {
 public:
  // Adds "key": value, value being JSON text already.
  JsonObject& Raw(std::string_view key, std::string_view json_value);
  JsonObject& Add(std::string_view key, std::string_view text);  // a string
  JsonObject& Add(std::string_view key, const char* text) {
    return Add(key, std::string_view(text));
  }
  JsonObject& Add(std::string_view key, int64_t value);
  JsonObject& Add(std::string_view key, int value) { return Add(key, static_cast<int64_t>(value)); }
  JsonObject& Add(std::string_view key, double value);  // shortest round-trip text
  JsonObject& Add(std::string_view key, bool value);

  // "{...}", the pairs on one line.
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_METRICS_JSON_H_
