#include "lib/metrics/json.h"

#include <charconv>

#include "absl/strings/str_format.h"

namespace cabench {

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

JsonObject& JsonObject::Raw(std::string_view key, std::string_view json_value) {
  if (!body_.empty()) body_ += ", ";
  body_ += JsonQuote(key);
  body_ += ": ";
  body_ += json_value;
  return *this;
}

JsonObject& JsonObject::Add(std::string_view key, std::string_view text) {
  return Raw(key, JsonQuote(text));
}

JsonObject& JsonObject::Add(std::string_view key, int64_t value) {
  return Raw(key, std::to_string(value));
}

JsonObject& JsonObject::Add(std::string_view key, double value) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), value);
  return Raw(key, std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

JsonObject& JsonObject::Add(std::string_view key, bool value) {
  return Raw(key, value ? "true" : "false");
}

}  // namespace cabench
