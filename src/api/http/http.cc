#include "api/http/http.h"

#include <cctype>

namespace scoria::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`; '+' becomes a space only in query strings (form encoding).
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

std::optional<std::string> FindHeader(const NameValues& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::optional<std::string> Request::Get(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Request::GetAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.push_back(v);
  }
  return out;
}

std::optional<std::string> Request::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

void Response::SetHeader(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& kv) { return EqualsIgnoreCase(kv.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

std::optional<std::string> Response::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

Response JsonResponse(int status, const nlohmann::json& body) {
  // Replace invalid UTF-8 instead of throwing: a stored name must never break a listing.
  return JsonTextResponse(status,
                          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response JsonTextResponse(int status, std::string json_text) {
  Response r = TextResponse(status, std::move(json_text));
  r.SetHeader("Content-Type", "application/json");
  return r;
}

Response EmptyResponse(int status) {
  Response r;
  r.status = status;
  return r;
}

Response TextResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "text/plain; charset=UTF-8");
  return r;
}

Result<Request> MakeRequest(std::string method, std::string target, NameValues headers,
                            std::string body) {
  if (target.empty() || target[0] != '/') {
    return InvalidArgument("Malformed request url: target must start with '/'");
  }
  Request req;
  for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  req.method = std::move(method);
  req.raw_target = std::move(target);
  req.headers = std::move(headers);
  req.body = std::move(body);

  std::string_view t = req.raw_target;
  size_t hash = t.find('#');
  if (hash != std::string_view::npos) t = t.substr(0, hash);
  size_t qmark = t.find('?');
  if (!PercentDecode(t.substr(0, qmark), /*plus_is_space=*/false, &req.path)) {
    return InvalidArgument("Malformed request url: bad percent-encoding in path");
  }
  if (qmark != std::string_view::npos) {
    std::string_view q = t.substr(qmark + 1);
    while (!q.empty()) {
      size_t amp = q.find('&');
      std::string_view pair = q.substr(0, amp);
      q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      std::string name, value;
      if (!PercentDecode(pair.substr(0, eq), true, &name) ||
          (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, &value))) {
        return InvalidArgument("Malformed request url: bad percent-encoding in query");
      }
      req.query.emplace_back(std::move(name), std::move(value));
    }
  }
  auto host = req.Header("Host");
  req.base_url = "http://" + (host && !host->empty() ? *host : std::string("localhost"));
  return req;
}

Result<nlohmann::json> ParseJsonBody(const Request& req) {
  if (req.body.empty()) return InvalidArgument("Malformed request body: the body is empty");
  nlohmann::json j = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("Malformed request body: cannot understand JSON");
  if (!j.is_object()) {
    return InvalidArgument("Malformed request body: the top level must be a JSON object");
  }
  return j;
}

}  // namespace scoria::api
