#include "common/clock.h"

#include <chrono>
#include <cstdio>
#include <cctype>
#include <cstdlib>
#include <ctime>

namespace scoria {

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatIsoTime(int64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1000000);
  int64_t frac = micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
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
    } else if ((str[pos] == '+' || str[pos] == '-') && str.size() - pos == 6 && str[pos + 3] == ':') {
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
