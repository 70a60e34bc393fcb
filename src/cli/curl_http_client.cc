#include "cli/curl_http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "common/http_text.h"

namespace scoria::cli {

CurlHttpClient::CurlHttpClient(std::string endpoint, CurlOptions options)
    : endpoint_(std::move(endpoint)), options_(options) {
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

CurlHttpClient::~CurlHttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

std::string CurlHttpClient::Escape(const std::string& s) { return PercentEncode(s); }

Result<HttpResponse> CurlHttpClient::Send(const HttpRequest& request) {
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) return Unavailable("cannot reach " + endpoint_ + ": curl_easy_init failed");
  // Reset options but keep the connection cache: that is what makes polling cheap.
  curl_easy_reset(curl);

  std::string url = endpoint_ + request.path;
  char sep = '?';
  for (const auto& [k, v] : request.query) {
    url += sep;
    url += Escape(k) + "=" + Escape(v);
    sep = '&';
  }

  HttpResponse response;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers)
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  // libcurl would otherwise send "Expect: 100-continue" for large bodies and wait for it.
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options_.request_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CurlAppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CurlAddHeaderLine);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
    }
  }

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    std::string reason = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    return Unavailable("cannot reach " + endpoint_ + ": " + reason);
  }
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  response.status = static_cast<int>(code);
  return response;
}

}  // namespace scoria::cli
