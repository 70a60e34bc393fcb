#include "api/http/microversion.h"

#include <gtest/gtest.h>

namespace scoria::api {
namespace {

struct NegotiateCase {
  std::optional<std::string> header;
  StatusCode code;
  ApiVersion want;
};

TEST(MicroversionTest, NegotiationTable) {
  const NegotiateCase cases[] = {
      {std::nullopt, StatusCode::kOk, {3, 0}},
      {"volume 3.27", StatusCode::kOk, {3, 27}},
      {"volume 3.0", StatusCode::kOk, {3, 0}},
      {"volume 3.71", StatusCode::kOk, {3, 71}},
      {"VOLUME 3.5", StatusCode::kOk, {3, 5}},
      {"  volume   3.44  ", StatusCode::kOk, {3, 44}},
      {"compute 2.1, volume 3.5", StatusCode::kOk, {3, 5}},
      {"volume 3.5,compute 2.90", StatusCode::kOk, {3, 5}},
      {"volume latest", StatusCode::kOk, kMaxVersion},
      {"volume Latest", StatusCode::kOk, kMaxVersion},
      {"volume 3.72", StatusCode::kUnsupportedVersion, {}},
      {"volume 2.0", StatusCode::kUnsupportedVersion, {}},
      {"volume 4.0", StatusCode::kUnsupportedVersion, {}},
      {"volume 3", StatusCode::kInvalidArgument, {}},
      {"volume 3.", StatusCode::kInvalidArgument, {}},
      {"volume 3.05", StatusCode::kInvalidArgument, {}},
      {"volume 03.1", StatusCode::kInvalidArgument, {}},
      {"volume 3.x", StatusCode::kInvalidArgument, {}},
      {"volume -3.1", StatusCode::kInvalidArgument, {}},
      {"volume", StatusCode::kInvalidArgument, {}},
      {"compute 2.1", StatusCode::kInvalidArgument, {}},
      {"", StatusCode::kInvalidArgument, {}},
      {"3.27", StatusCode::kInvalidArgument, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header.value_or("<absent>"));
    auto got = NegotiateVersion(c.header);
    EXPECT_EQ(got.status().code(), c.code) << got.status().ToString();
    if (got.ok()) {
      EXPECT_EQ(*got, c.want);
    }
  }
}

TEST(MicroversionTest, OutOfRangeMessageMatchesCinder) {
  auto got = NegotiateVersion("volume 3.72");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(),
            "Version 3.72 is not supported by the API. Minimum is 3.0 and maximum is 3.71.");
}

TEST(MicroversionTest, Ordering) {
  EXPECT_LT((ApiVersion{3, 9}), (ApiVersion{3, 10}));
  EXPECT_LT((ApiVersion{2, 99}), (ApiVersion{3, 0}));
  EXPECT_EQ((ApiVersion{3, 27}).ToString(), "3.27");
}

}  // namespace
}  // namespace scoria::api
