#include "api/http/fault.h"

#include <gtest/gtest.h>

namespace scoria::api {
namespace {

nlohmann::json Body(const Response& r) { return nlohmann::json::parse(r.body); }

TEST(FaultTest, StatusMapping) {
  struct Case {
    Status status;
    int http;
    const char* name;
  };
  const Case cases[] = {
      {InvalidArgument("bad"), 400, "badRequest"},
      {FailedPrecondition("state"), 400, "badRequest"},
      {PermissionDenied("Policy doesn't allow volume:delete to be performed."), 403, "forbidden"},
      {NotFound("Volume x could not be found."), 404, "itemNotFound"},
      {AlreadyExists("dup"), 409, "conflictingRequest"},
      {Conflict("race"), 409, "conflictingRequest"},
      {ResourceExhausted("quota"), 413, "overLimit"},
      {Status(StatusCode::kUnsupportedVersion, "Version 3.72 ..."), 406, "computeFault"},
      {NotImplemented("nope"), 501, "notImplemented"},
      {Unavailable("backup down"), 503, "serviceUnavailable"},
      {Unauthenticated("requires authentication"), 401, "unauthorized"},
      {Internal("sqlite: disk I/O error at /var/lib/x"), 500, "computeFault"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    Response r = FaultResponse(c.status);
    EXPECT_EQ(r.status, c.http);
    EXPECT_EQ(r.Header("content-type"), "application/json");
    auto body = Body(r);
    ASSERT_TRUE(body.contains(c.name)) << r.body;
    EXPECT_EQ(body.size(), 1u);
    EXPECT_EQ(body[c.name]["code"], c.http);
    if (c.http != 500) {
      EXPECT_EQ(body[c.name]["message"], c.status.message());
    }
  }
}

TEST(FaultTest, InternalMessageIsNotLeaked) {
  Response r = FaultResponse(Internal("sqlite: disk I/O error at /var/lib/secret"));
  EXPECT_EQ(r.body.find("secret"), std::string::npos);
  EXPECT_EQ(Body(r)["computeFault"]["message"], kInternalErrorMessage);
}

TEST(FaultTest, QuotaCarriesRetryAfter) {
  Response r = FaultResponse(ResourceExhausted("VolumeLimitExceeded: Maximum number of volumes"));
  EXPECT_EQ(Body(r)["overLimit"]["retryAfter"], "0");
  EXPECT_EQ(r.Header("Retry-After"), "0");
}

TEST(FaultTest, FrameworkFaultNames) {
  EXPECT_EQ(Body(FaultResponse(401, "x")).begin().key(), "unauthorized");
  EXPECT_EQ(Body(FaultResponse(403, "x")).begin().key(), "forbidden");
  EXPECT_EQ(Body(FaultResponse(405, "x")).begin().key(), "badMethod");
  EXPECT_EQ(Body(FaultResponse(413, "x")).begin().key(), "overLimit");
  EXPECT_EQ(Body(FaultResponse(415, "x")).begin().key(), "badMediaType");
  EXPECT_EQ(Body(FaultResponse(418, "x")).begin().key(), "computeFault");
  EXPECT_EQ(Body(FaultResponse(405, "no"))["badMethod"]["message"], "no");
}

}  // namespace
}  // namespace scoria::api
