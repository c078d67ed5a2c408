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

namespace {

// Reads a JSON string literal at text[*pos] ('"') into *out; advances *pos
// past it.
bool ReadString(std::string_view text, size_t* pos, std::string* out) {
  if (*pos >= text.size() || text[*pos] != '"') return false;
  out->clear();
  for (size_t i = *pos + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      *pos = i + 1;
      return true;
    }
    if (static_cast<unsigned char>(c) < 0x20) return false;
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= text.size()) return false;
    switch (text[i]) {
      case '"':
      case '\\':
      case '/':
        out->push_back(text[i]);
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        if (i + 4 >= text.size()) return false;
        unsigned code = 0;
        for (int k = 1; k <= 4; ++k) {
          const char h = text[i + k];
          code <<= 4;
          if (h >= '0' && h <= '9')
            code |= static_cast<unsigned>(h - '0');
          else if (h >= 'a' && h <= 'f')
            code |= static_cast<unsigned>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F')
            code |= static_cast<unsigned>(h - 'A' + 10);
          else
            return false;
        }
        i += 4;
        if (code < 0x80) {
          out->push_back(static_cast<char>(code));
        } else if (code < 0x800) {
          out->push_back(static_cast<char>(0xc0 | (code >> 6)));
          out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
        } else {
          out->push_back(static_cast<char>(0xe0 | (code >> 12)));
          out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
          out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
        }
        break;
      }
      default:
        return false;
    }
  }
  return false;
}

void SkipSpace(std::string_view text, size_t* pos) {
  while (*pos < text.size() &&
         (text[*pos] == ' ' || text[*pos] == '\n' || text[*pos] == '\r' || text[*pos] == '\t')) {
    ++*pos;
  }
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ParseFlatJsonStrings(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  auto fail = [&pos](const char* what) {
    return absl::InvalidArgumentError(std::string("not a JSON object of strings: ") + what +
                                      " at offset " + std::to_string(pos));
  };
  SkipSpace(text, &pos);
  if (pos >= text.size() || text[pos] != '{') return fail("expected '{'");
  ++pos;
  SkipSpace(text, &pos);
  if (pos < text.size() && text[pos] == '}') {
    ++pos;
  } else {
    for (;;) {
      std::string key, value;
      SkipSpace(text, &pos);
      if (!ReadString(text, &pos, &key)) return fail("expected a key");
      SkipSpace(text, &pos);
      if (pos >= text.size() || text[pos] != ':') return fail("expected ':'");
      ++pos;
      SkipSpace(text, &pos);
      if (!ReadString(text, &pos, &value)) return fail("expected a string value");
      out[key] = value;
      SkipSpace(text, &pos);
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < text.size() && text[pos] == '}') {
        ++pos;
        break;
      }
      return fail("expected ',' or '}'");
    }
  }
  SkipSpace(text, &pos);
  if (pos != text.size()) return fail("trailing text");
  return out;
}

}  // namespace cabench
