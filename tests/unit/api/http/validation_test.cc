#include "api/http/validation.h"

#include <gtest/gtest.h>

namespace scoria::api {
namespace {

using nlohmann::json;

TEST(RequiredStringTest, MissingNullAndOtherTypesAreRefusedWithCindersWords) {
  const json in = {{"a", "x "}, {"n", nullptr}, {"i", 3}};
  auto a = RequiredString(in, "a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, "x ");  // not trimmed
  for (const char* key : {"missing", "n"}) {
    auto r = RequiredString(in, key);
    ASSERT_FALSE(r.ok()) << key;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(),
              std::string("Invalid input received: '") + key + "' is a required property");
  }
  auto i = RequiredString(in, "i");
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(i.status().message(), "Invalid input for field/attribute i. Value: 3. Not a string");
}

}  // namespace
}  // namespace scoria::api
