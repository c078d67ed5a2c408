#include "lib/dataset/sql_text.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace cabench {
namespace {

constexpr char kSlotChars[] = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr size_t kMaxLockName = 64;  // MariaDB and MySQL
constexpr size_t kMaxHost = 60;

bool IsPlainSchemaChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// FNV-1a, 64 bits: fixed, unlike std::hash and absl::Hash (seeded per
// process), because every process must derive the same lock name.
uint64_t Fnv1a(absl::string_view s) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

char SlotChar(int index) {
  return index >= 0 && index < kRunSlots ? kSlotChars[index] : '?';
}

int SlotIndex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return 10 + (c - 'a');
  return -1;
}

std::string SqlQuote(absl::string_view value) {
  std::string out = "'";
  for (char c : value) {
    switch (c) {
      case '\'':
        out += "''";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\0':
        out += "\\0";
        break;
      default:
        out += c;
    }
  }
  out += '\'';
  return out;
}

std::string SlotLockName(absl::string_view schema, char slot) {
  constexpr absl::string_view kPrefix = "cabench:";
  const size_t fixed = kPrefix.size() + 2;  // ":<slot>"
  const bool plain =
      std::all_of(schema.begin(), schema.end(), IsPlainSchemaChar);
  if (plain && fixed + schema.size() <= kMaxLockName) {
    return absl::StrCat(kPrefix, schema, ":", std::string(1, slot));
  }
  // "~" + 16 hex digits identify the exact name; the readable part is only a
  // hint for a person reading SHOW PROCESSLIST or the metadata_lock_info.
  const size_t readable = kMaxLockName - fixed - 17;
  std::string hint(schema.substr(0, readable));
  for (char& c : hint) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return absl::StrCat(kPrefix, hint, absl::StrFormat("~%016x", Fnv1a(schema)),
                      ":", std::string(1, slot));
}

std::string SafeHostName(absl::string_view host) {
  std::string out(host.substr(0, kMaxHost));
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out.empty() ? "unknown" : out;
}

std::string MakeRunId(absl::string_view host, int64_t pid, int64_t epoch_ms,
                      char slot) {
  return absl::StrCat(SafeHostName(host), "-", pid, "-", epoch_ms, "-",
                      std::string(1, slot));
}

std::string SqlIdentifier(absl::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  out += '`';
  return out;
}

std::string AddRunColumnSql() {
  return absl::StrCat("ALTER TABLE booking ADD COLUMN ", kRunColumn, " ",
                      kRunColumnType, ", ALGORITHM=INSTANT");
}

std::string DeleteRunBookingsSql(int64_t run_no, absl::string_view run_id,
                                 int64_t floor, int64_t batch) {
  return absl::StrCat(
      "DELETE FROM booking WHERE booking_id > ", floor, " AND ", kRunColumn,
      " = ", run_no,
      " AND EXISTS (SELECT 1 FROM cabench_runs WHERE run_no = ", run_no,
      " AND run_id = ", SqlQuote(run_id), ") ORDER BY booking_id LIMIT ",
      std::max<int64_t>(batch, 1));
}

}  // namespace cabench
