#include "target/chap.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>

namespace scoria::target {

size_t ChapDigestLength(ChapAlgorithm alg) {
  switch (alg) {
    case ChapAlgorithm::kMd5:
      return 16;
    case ChapAlgorithm::kSha1:
      return 20;
    case ChapAlgorithm::kSha256:
      return 32;
  }
  return 0;
}

namespace {

const EVP_MD* Md(ChapAlgorithm alg) {
  switch (alg) {
    case ChapAlgorithm::kMd5:
      return EVP_md5();
    case ChapAlgorithm::kSha1:
      return EVP_sha1();
    case ChapAlgorithm::kSha256:
      return EVP_sha256();
  }
  return nullptr;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Result<std::vector<uint8_t>> ChapResponse(ChapAlgorithm alg, uint8_t id, std::string_view secret,
                                          std::span<const uint8_t> challenge) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const EVP_MD* md = Md(alg);
  if (!ctx || md == nullptr) return Internal("CHAP: digest unavailable");
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  if (EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 || EVP_DigestUpdate(ctx.get(), &id, 1) != 1 ||
      EVP_DigestUpdate(ctx.get(), secret.data(), secret.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), challenge.data(), challenge.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1) {
    return Internal("CHAP: digest failed");
  }
  out.resize(len);
  return out;
}

std::string EncodeChapHex(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "0x";
  s.reserve(2 + 2 * bytes.size());
  for (uint8_t b : bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

Result<std::vector<uint8_t>> DecodeChapBinary(std::string_view v) {
  if (v.size() < 3 || v[0] != '0') return InvalidArgument("CHAP: binary value without 0x/0b");
  std::vector<uint8_t> out;
  std::string_view body = v.substr(2);
  if (v[1] == 'x' || v[1] == 'X') {
    // An odd number of digits means a leading zero nibble (RFC 7143 §6.1 hex-constant).
    size_t i = 0;
    if (body.size() % 2 == 1) {
      int d = HexDigit(body[0]);
      if (d < 0) return InvalidArgument("CHAP: bad hex");
      out.push_back(static_cast<uint8_t>(d));
      i = 1;
    }
    for (; i < body.size(); i += 2) {
      int hi = HexDigit(body[i]);
      int lo = HexDigit(body[i + 1]);
      if (hi < 0 || lo < 0) return InvalidArgument("CHAP: bad hex");
      out.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    return out;
  }
  if (v[1] == 'b' || v[1] == 'B') {
    size_t pad = 0;
    while (!body.empty() && body.back() == '=' && pad < 2) {
      body.remove_suffix(1);
      ++pad;
    }
    if ((body.size() + pad) % 4 != 0) return InvalidArgument("CHAP: bad base64 length");
    uint32_t acc = 0;
    int bits = 0;
    for (char c : body) {
      int d = Base64Digit(c);
      if (d < 0) return InvalidArgument("CHAP: bad base64");
      acc = (acc << 6) | static_cast<uint32_t>(d);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push_back(static_cast<uint8_t>(acc >> bits));
      }
    }
    return out;
  }
  return InvalidArgument("CHAP: binary value without 0x/0b");
}

ChapAuthenticator::ChapAuthenticator(std::vector<ChapAlgorithm> algorithms)
    : supported_(std::move(algorithms)) {}

Status ChapAuthenticator::OnAlgorithms(std::string_view chap_a, TextList* answer) {
  std::optional<ChapAlgorithm> chosen;
  for (std::string_view item : SplitList(chap_a)) {
    auto n = ParseNumber(item, 255);
    if (!n.ok()) continue;
    auto alg = static_cast<ChapAlgorithm>(*n);
    if (std::find(supported_.begin(), supported_.end(), alg) != supported_.end()) {
      chosen = alg;
      break;
    }
  }
  if (!chosen) {
    answer->push_back({"CHAP_A", "Reject"});
    return InvalidArgument("CHAP: no supported algorithm offered");
  }
  alg_ = *chosen;
  if (fixed_id_) {
    id_ = *fixed_id_;
    challenge_ = fixed_challenge_;
  } else {
    challenge_.resize(kChapChallengeLength);
    if (RAND_bytes(&id_, 1) != 1 ||
        RAND_bytes(challenge_.data(), static_cast<int>(challenge_.size())) != 1) {
      challenge_.clear();
      return Internal("CHAP: RAND_bytes failed");
    }
  }
  answer->push_back({"CHAP_A", std::to_string(static_cast<int>(alg_))});
  answer->push_back({"CHAP_I", std::to_string(id_)});
  answer->push_back({"CHAP_C", EncodeChapHex(challenge_)});
  return Status::Ok();
}

Status ChapAuthenticator::OnResponse(const TextList& keys, const ChapSecret& expected,
                                     const std::optional<ChapSecret>& mutual, TextList* answer) {
  if (challenge_.empty()) return InvalidArgument("CHAP: response before challenge");
  const std::string* n = FindKey(keys, "CHAP_N");
  const std::string* r = FindKey(keys, "CHAP_R");
  if (n == nullptr || r == nullptr) return InvalidArgument("CHAP: CHAP_N or CHAP_R missing");
  // The challenge is single-use whatever happens next.
  std::vector<uint8_t> challenge = std::move(challenge_);
  challenge_.clear();

  ASSIGN_OR_RETURN(std::vector<uint8_t> got, DecodeChapBinary(*r));
  ASSIGN_OR_RETURN(std::vector<uint8_t> want, ChapResponse(alg_, id_, expected.secret, challenge));
  // Compare the user and the response without early exit on the response bytes.
  bool user_ok = *n == expected.user;
  bool resp_ok =
      got.size() == want.size() && CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0;
  if (!user_ok || !resp_ok) {
    return InvalidArgument("CHAP: authentication failed for user '" + *n + "'");
  }

  const std::string* mi = FindKey(keys, "CHAP_I");
  const std::string* mc = FindKey(keys, "CHAP_C");
  if (mi == nullptr && mc == nullptr) return Status::Ok();  // one-way
  if (mi == nullptr || mc == nullptr)
    return InvalidArgument("CHAP: mutual needs CHAP_I and CHAP_C");
  if (!mutual) return InvalidArgument("CHAP: mutual authentication requested, none configured");
  if (mutual->secret == expected.secret) {
    return InvalidArgument("CHAP: target secret equals initiator secret (RFC 7143 §12.1.3)");
  }
  auto id = ParseNumber(*mi, 255);
  if (!id.ok()) return InvalidArgument("CHAP: bad mutual CHAP_I");
  ASSIGN_OR_RETURN(std::vector<uint8_t> their_challenge, DecodeChapBinary(*mc));
  if (their_challenge.empty() || their_challenge.size() > kChapMaxChallengeLength) {
    return InvalidArgument("CHAP: bad mutual challenge length");
  }
  if (their_challenge == challenge) return InvalidArgument("CHAP: reflected challenge");
  ASSIGN_OR_RETURN(std::vector<uint8_t> ours,
                   ChapResponse(alg_, static_cast<uint8_t>(*id), mutual->secret, their_challenge));
  answer->push_back({"CHAP_N", mutual->user});
  answer->push_back({"CHAP_R", EncodeChapHex(ours)});
  return Status::Ok();
}

}  // namespace scoria::target
