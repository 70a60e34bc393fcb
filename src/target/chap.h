// CHAP for iSCSI login (RFC 7143 §12.1.3, RFC 1994), target side, one-way and mutual.
//
// Model: response = H(identifier byte ‖ secret ‖ challenge), H = MD5 (CHAP_A=5), SHA-1 (6) or
// SHA-256 (7), through OpenSSL EVP. The target picks the first algorithm in the initiator's
// CHAP_A list it supports, sends CHAP_I (random 0..255) and CHAP_C (kChapChallengeLength
// random bytes from RAND_bytes, hex: libiscsi only parses 0x), then checks CHAP_N/CHAP_R
// with a constant-time compare. For mutual CHAP the initiator adds its own CHAP_I/CHAP_C and
// the target answers CHAP_N/CHAP_R with its own credentials. Binary values are accepted as
// 0x-hex or 0b-base64. Rejected: a mutual challenge equal to ours (reflection attack), an
// empty or oversized challenge, an initiator secret equal to the target secret (RFC 7143
// §12.1.3 MUST NOT).
//
// Secrets never appear in Status messages or logs. Threading: a ChapAuthenticator belongs to
// one login; the free functions are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "target/text.h"

namespace scoria::target {

struct ChapSecret {
  std::string user;
  std::string secret;
};

enum class ChapAlgorithm : uint8_t { kMd5 = 5, kSha1 = 6, kSha256 = 7 };

inline constexpr size_t kChapChallengeLength = 16;
inline constexpr size_t kChapMaxChallengeLength = 1024;

// Digest length of `alg` in bytes (16, 20, 32).
size_t ChapDigestLength(ChapAlgorithm alg);

// H(id ‖ secret ‖ challenge). Internal on an OpenSSL failure.
Result<std::vector<uint8_t>> ChapResponse(ChapAlgorithm alg, uint8_t id, std::string_view secret,
                                          std::span<const uint8_t> challenge);

// "0x" + lowercase hex.
std::string EncodeChapHex(std::span<const uint8_t> bytes);
// 0x/0X hex or 0b/0B base64 (RFC 7143 §6.1 binary-value). InvalidArgument otherwise.
Result<std::vector<uint8_t>> DecodeChapBinary(std::string_view value);

// The target's half of one CHAP exchange.
class ChapAuthenticator {
 public:
  // `algorithms`: what we accept, in no particular order (the initiator's order wins).
  explicit ChapAuthenticator(std::vector<ChapAlgorithm> algorithms = {ChapAlgorithm::kMd5,
                                                                      ChapAlgorithm::kSha1,
                                                                      ChapAlgorithm::kSha256});

  // Step 1: the initiator's CHAP_A list. Appends CHAP_A, CHAP_I and CHAP_C to *answer.
  // InvalidArgument if no offered algorithm is supported (answer CHAP_A=Reject and fail).
  Status OnAlgorithms(std::string_view chap_a, TextList* answer);

  // Step 2: the initiator's CHAP_N/CHAP_R (+ CHAP_I/CHAP_C for mutual), checked against
  // `expected`. When the initiator asks for mutual authentication, `mutual` must be set and
  // CHAP_N/CHAP_R for it are appended to *answer. Failure (wrong user or response, missing
  // keys, reflection, mutual requested but not configured) -> a non-OK Status whose message
  // is safe to log; the login then fails with 0x0201.
  Status OnResponse(const TextList& keys, const ChapSecret& expected,
                    const std::optional<ChapSecret>& mutual, TextList* answer);

  bool challenge_sent() const { return !challenge_.empty(); }

  // Tests only: use a fixed identifier and challenge instead of random ones.
  void SetChallengeForTesting(uint8_t id, std::vector<uint8_t> challenge) {
    fixed_id_ = id;
    fixed_challenge_ = std::move(challenge);
  }

 private:
  std::vector<ChapAlgorithm> supported_;
  ChapAlgorithm alg_ = ChapAlgorithm::kMd5;
  uint8_t id_ = 0;
  std::vector<uint8_t> challenge_;
  std::optional<uint8_t> fixed_id_;
  std::vector<uint8_t> fixed_challenge_;
};

}  // namespace scoria::target
