#include "common/clock.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace scoria {

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatIsoTime(int64_t micros) { return std::string(IsoTimeText(micros).view()); }

IsoTimeText::IsoTimeText(int64_t micros) {
  // Every listed resource carries two of these: digits are written by hand from <chrono>'s
  // calendar arithmetic (snprintf + gmtime_r was a tenth of a 200-volume listing).
  using namespace std::chrono;
  const sys_time<microseconds> t{microseconds{micros}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) {
    // Outside what 4 digits hold; only a corrupt row gets here.
    const int n =
        std::snprintf(text_, sizeof text_, "%d-%02u-%02u", y, static_cast<unsigned>(ymd.month()),
                      static_cast<unsigned>(ymd.day()));
    size_ = n < 0 ? 0 : std::min<size_t>(static_cast<size_t>(n), sizeof text_ - 1);
    return;
  }
  const hh_mm_ss hms{floor<microseconds>(t - day)};
  char* out = text_;  // YYYY-MM-DDTHH:MM:SS.ffffff
  size_ = 26;
  auto put = [&](int pos, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10)
      out[pos + i] = static_cast<char>('0' + value % 10);
  };
  put(0, y, 4);
  out[4] = '-';
  put(5, static_cast<unsigned>(ymd.month()), 2);
  out[7] = '-';
  put(8, static_cast<unsigned>(ymd.day()), 2);
  out[10] = 'T';
  put(11, hms.hours().count(), 2);
  out[13] = ':';
  put(14, hms.minutes().count(), 2);
  out[16] = ':';
  put(17, hms.seconds().count(), 2);
  out[19] = '.';
  put(20, hms.subseconds().count(), 6);
}

std::optional<int64_t> ParseIsoTime(std::string_view s) {
  int y, mo, d, h, mi, sec;
  int n = 0;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
      n != 19) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  int64_t frac = 0;
  if (pos < str.size() && str[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < str.size() && std::isdigit(static_cast<unsigned char>(str[pos]))) {
      if (digits < 6) frac = frac * 10 + (str[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) frac *= 10;
  }
  int64_t offset = 0;
  if (pos < str.size()) {
    if (str[pos] == 'Z' && pos + 1 == str.size()) {
      pos = str.size();
    } else if ((str[pos] == '+' || str[pos] == '-') && str.size() - pos == 6 &&
               str[pos + 3] == ':') {
      int oh = std::atoi(str.substr(pos + 1, 2).c_str());
      int om = std::atoi(str.substr(pos + 4, 2).c_str());
      offset = (oh * 3600 + om * 60) * (str[pos] == '+' ? 1 : -1);
      pos = str.size();
    } else {
      return std::nullopt;
    }
  }
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t secs = timegm(&tm) - offset;
  return secs * 1000000 + frac;
}

}  // namespace scoria
