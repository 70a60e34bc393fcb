// Wall-clock time as the API and the database see it: microseconds since the Unix epoch (UTC),
// formatted the way Cinder serialises datetimes ("2018-11-29T06:50:07.770785", no zone).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace scoria {

int64_t NowMicros();
// "YYYY-MM-DDTHH:MM:SS.ffffff" in UTC.
std::string FormatIsoTime(int64_t micros);

// The same text held by value, for views written in bulk: every listed resource carries two
// timestamps, and 26 characters are past std::string's inline capacity (a heap allocation each).
class IsoTimeText {
 public:
  explicit IsoTimeText(int64_t micros);
  std::string_view view() const { return {text_, size_}; }

 private:
  char text_[32];  // 26 characters; a corrupt row's out-of-range year is written shorter
  size_t size_;
};
// Accepts "YYYY-MM-DDTHH:MM:SS[.ffffff][Z|+00:00]"; nullopt when malformed. Offsets are applied.
std::optional<int64_t> ParseIsoTime(std::string_view s);

}  // namespace scoria
