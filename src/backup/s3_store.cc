#include "backup/s3_store.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <utility>

#include "backup/object_http.h"
#include "common/http_text.h"

namespace scoria::backup {
namespace {

using http::Hex;

constexpr size_t kMinPartSize = 5 << 20;  // S3's floor for every part but the last

std::string Sha256Hex(std::span<const std::byte> data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return Hex(md);
}

std::string HmacSha256(const std::string& key, const std::string& msg) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string Signature(const std::string& secret, const std::string& date, const std::string& region,
                      const std::string& service, const std::string& string_to_sign) {
  std::string k = HmacSha256("AWS4" + secret, date);
  k = HmacSha256(k, region);
  k = HmacSha256(k, service);
  k = HmacSha256(k, "aws4_request");
  std::string sig = HmacSha256(k, string_to_sign);
  return Hex({reinterpret_cast<const unsigned char*>(sig.data()), sig.size()});
}

// The text of the first <tag>...</tag>, "" when absent. S3's answers are flat enough that
// this is all the XML we need; entities are decoded (keys and continuation tokens may carry
// &amp; and friends).
std::string XmlText(const std::string& xml, const std::string& tag) {
  size_t a = xml.find("<" + tag + ">");
  if (a == std::string::npos) return "";
  a += tag.size() + 2;
  size_t b = xml.find("</" + tag + ">", a);
  if (b == std::string::npos) return "";
  std::string raw = xml.substr(a, b - a), out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out += raw[i];
      continue;
    }
    static const std::pair<const char*, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool done = false;
    for (auto [e, c] : kEntities) {
      if (raw.compare(i, std::strlen(e), e) == 0) {
        out += c;
        i += std::strlen(e) - 1;
        done = true;
        break;
      }
    }
    if (!done) out += '&';
  }
  return out;
}

class S3Store : public http::HttpObjectStore {
 public:
  S3Store(S3StoreOptions o, http::ParsedUrl url)
      : o_(std::move(o)), url_(std::move(url)), client_(o_.endpoint_url, o_.http) {}

  Status EnsureBucket() {
    ASSIGN_OR_RETURN(auto head, Call("HEAD", "", {}, {}, "HEAD bucket"));
    if (head.status == 200) return Status::Ok();
    if (head.status != 404) return Refused(head, "HEAD bucket");
    ASSIGN_OR_RETURN(auto put, Call("PUT", "", {}, {}, "create bucket"));
    if (put.status == 200 || put.status == 409) return Status::Ok();  // 409: ours already
    return Refused(put, "create bucket");
  }

  Status Put(std::string_view name, std::span<const std::byte> data) override {
    RETURN_IF_ERROR(CheckObjectName(name));
    if (data.size() > o_.multipart_threshold) return PutMultipart(name, data);
    ASSIGN_OR_RETURN(auto r, Call("PUT", std::string(name), {}, data, "PUT " + std::string(name)));
    if (r.status != 200) return Refused(r, "PUT " + std::string(name));
    return Status::Ok();
  }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::vector<ObjectInfo> out;
    std::string token;
    for (;;) {
      std::vector<std::pair<std::string, std::string>> q = {
          {"list-type", "2"},
          {"max-keys", std::to_string(o_.max_keys)},
          {"prefix", std::string(prefix)}};
      if (!token.empty()) q.emplace_back("continuation-token", token);
      ASSIGN_OR_RETURN(auto r, Call("GET", "", q, {}, "LIST " + std::string(prefix)));
      if (r.status != 200) return Refused(r, "LIST " + std::string(prefix));
      size_t pos = 0;
      for (;;) {
        size_t c = r.body.find("<Contents>", pos);
        if (c == std::string::npos) break;
        size_t end = r.body.find("</Contents>", c);
        if (end == std::string::npos) return Internal("S3 listing: truncated <Contents>");
        std::string one = r.body.substr(c, end - c);
        ObjectInfo info;
        info.name = XmlText(one, "Key");
        info.size = std::strtoull(XmlText(one, "Size").c_str(), nullptr, 10);
        info.modified_micros = http::ParseIsoTime(XmlText(one, "LastModified"));
        // The store's namespace only: a stray key (made by hand) is not an object of ours.
        if (CheckObjectName(info.name).ok()) out.push_back(std::move(info));
        pos = end;
      }
      if (XmlText(r.body, "IsTruncated") != "true") break;
      token = XmlText(r.body, "NextContinuationToken");
      if (token.empty()) return Internal("S3 listing is truncated but has no continuation token");
    }
    return out;
  }

 private:
  using Query = std::vector<std::pair<std::string, std::string>>;

  Result<http::Response> ObjectRequest(const std::string& method,
                                       const std::string& name) override {
    return Call(method, name, {}, {}, method + " " + name);
  }

  // One signed request to /<bucket>[/<key>]?<query>, retried (object_http.h).
  Result<http::Response> Call(const std::string& method, const std::string& key, const Query& query,
                              std::span<const std::byte> body, const std::string& what) {
    const std::string path = url_.path + "/" + PercentEncode(o_.bucket, false) +
                             (key.empty() ? "" : "/" + PercentEncode(key, true));
    Query sorted = query;
    for (auto& [k, v] : sorted) {
      k = PercentEncode(k, false);
      v = PercentEncode(v, false);
    }
    std::sort(sorted.begin(), sorted.end());
    std::string qs;
    for (const auto& [k, v] : sorted) qs += (qs.empty() ? "" : "&") + k + "=" + v;
    const std::string payload_hash = Sha256Hex(body);
    auto build = [&]() {
      std::time_t now = std::time(nullptr);
      std::tm tm{};
      ::gmtime_r(&now, &tm);
      char amz_date[32], date[16];
      std::strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
      std::strftime(date, sizeof(date), "%Y%m%d", &tm);
      const std::string signed_headers = "host;x-amz-content-sha256;x-amz-date";
      const std::string canonical =
          method + "\n" + path + "\n" + qs + "\n" + "host:" + url_.authority + "\n" +
          "x-amz-content-sha256:" + payload_hash + "\n" + "x-amz-date:" + amz_date + "\n\n" +
          signed_headers + "\n" + payload_hash;
      const std::string scope = std::string(date) + "/" + o_.region + "/s3/aws4_request";
      const std::string to_sign =
          std::string("AWS4-HMAC-SHA256\n") + amz_date + "\n" + scope + "\n" +
          Sha256Hex({reinterpret_cast<const std::byte*>(canonical.data()), canonical.size()});
      http::Request req;
      req.method = method;
      req.url = url_.scheme_authority + path + (qs.empty() ? "" : "?" + qs);
      req.body = body;
      req.headers = {"Host: " + url_.authority, "x-amz-content-sha256: " + payload_hash,
                     std::string("x-amz-date: ") + amz_date,
                     "Content-Type: application/octet-stream",
                     "Authorization: AWS4-HMAC-SHA256 Credential=" + o_.access_key + "/" + scope +
                         ", SignedHeaders=" + signed_headers +
                         ", Signature=" + Signature(o_.secret_key, date, o_.region, "s3", to_sign)};
      return req;
    };
    return client_.Send(build, what);
  }

  // A non-success answer as a Status: authentication problems say which credentials and
  // where (never the secret), everything else carries S3's error code.
  Status Refused(const http::Response& r, const std::string& what) const override {
    const std::string code = XmlText(r.body, "Code");
    const std::string where = " (S3 endpoint " + o_.endpoint_url + ", bucket " + o_.bucket + ")";
    if (r.status == 403 || r.status == 401 || code == "InvalidAccessKeyId" ||
        code == "SignatureDoesNotMatch") {
      return FailedPrecondition(
          what + ": access key " + o_.access_key + " refused: HTTP " + std::to_string(r.status) +
          " " + code + "; check backup_s3_store_access_key and backup_s3_store_secret_key" + where);
    }
    if (code == "NoSuchBucket") {  // removed behind our back: not an absent object
      return FailedPrecondition(what + ": the bucket does not exist any more" + where);
    }
    return Internal(what + ": HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code) +
                    where);
  }

  Status PutMultipart(std::string_view name, std::span<const std::byte> data) {
    const std::string key(name);
    ASSIGN_OR_RETURN(auto init, Call("POST", key, {{"uploads", ""}}, {}, "start upload " + key));
    if (init.status != 200) return Refused(init, "start upload " + key);
    const std::string upload_id = XmlText(init.body, "UploadId");
    if (upload_id.empty()) return Internal("start upload " + key + ": no UploadId in the answer");
    Status st = UploadParts(key, upload_id, data);
    if (!st.ok()) {
      // Best effort: a failed abort leaves parts the bucket's lifecycle rules can collect.
      (void)Call("DELETE", key, {{"uploadId", upload_id}}, {}, "abort upload " + key);
    }
    return st;
  }

  Status UploadParts(const std::string& key, const std::string& upload_id,
                     std::span<const std::byte> data) {
    std::string complete = "<CompleteMultipartUpload>";
    int number = 1;
    for (size_t off = 0; off < data.size(); off += o_.part_size, ++number) {
      auto part = data.subspan(off, std::min(o_.part_size, data.size() - off));
      const std::string what = "PUT " + key + " part " + std::to_string(number);
      ASSIGN_OR_RETURN(
          auto r,
          Call("PUT", key, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}}, part,
               what));
      if (r.status != 200) return Refused(r, what);
      complete += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" +
                  r.Header("etag") + "</ETag></Part>";
    }
    complete += "</CompleteMultipartUpload>";
    ASSIGN_OR_RETURN(auto done,
                     Call("POST", key, {{"uploadId", upload_id}},
                          {reinterpret_cast<const std::byte*>(complete.data()), complete.size()},
                          "complete upload " + key));
    // S3 may answer 200 and report the failure in the body (it streams the answer).
    if (done.status != 200 || done.body.find("<Error>") != std::string::npos) {
      return Refused(done, "complete upload " + key);
    }
    return Status::Ok();
  }

  const S3StoreOptions o_;
  const http::ParsedUrl url_;
  http::Client client_;
};

}  // namespace

std::string S3SignatureForTest(const std::string& secret, const std::string& date,
                               const std::string& region, const std::string& service,
                               const std::string& string_to_sign) {
  return Signature(secret, date, region, service, string_to_sign);
}

Result<std::shared_ptr<BackupStore>> OpenS3Store(const S3StoreOptions& options) {
  if (options.endpoint_url.empty()) return InvalidArgument("backup_s3_endpoint_url is not set");
  auto url = http::ParseUrl(options.endpoint_url);
  if (!url.ok()) return InvalidArgument("backup_s3_endpoint_url: " + url.status().message());
  if (options.access_key.empty()) return InvalidArgument("backup_s3_store_access_key is not set");
  if (options.secret_key.empty()) return InvalidArgument("backup_s3_store_secret_key is not set");
  // Bucket names per S3's rules (3-63 of [a-z0-9.-]): anything else would need virtual-host
  // style or be refused by the gateway with a less helpful message.
  const std::string& b = options.bucket;
  if (b.size() < 3 || b.size() > 63 || !std::all_of(b.begin(), b.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
      })) {
    return InvalidArgument(
        "backup_s3_store_bucket: expected 3 to 63 characters of a-z, 0-9, '.' "
        "and '-', got \"" +
        b + "\"");
  }
  if (options.part_size < kMinPartSize || options.multipart_threshold < kMinPartSize) {
    return InvalidArgument("backup_s3_object_size: S3 parts must be at least 5242880 bytes");
  }
  if (options.max_keys < 1 || options.http.attempts < 1) {
    return InvalidArgument("S3 store: max_keys and attempts must be at least 1");
  }
  auto store = std::make_shared<S3Store>(options, *url);
  RETURN_IF_ERROR(store->EnsureBucket());
  return std::shared_ptr<BackupStore>(store);
}

}  // namespace scoria::backup
