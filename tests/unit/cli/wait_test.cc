#include "cli/wait.h"

#include <gtest/gtest.h>

#include <sstream>

#include "fake_http_client.h"

namespace scoria::cli {
namespace {

using nlohmann::json;
using testing::FakeClock;
using testing::FakeHttpClient;
using testing::kVolId;
using testing::Volume;

class WaitTest : public ::testing::Test {
 protected:
  Result<json> Wait(WaitSpec spec, bool tty = false, double timeout = 300) {
    Output output{out, err, false, tty};
    ApiClient api(http, {});
    Context ctx{api, output, clock, timeout};
    return WaitFor(ctx, spec);
  }
  WaitSpec Spec() {
    WaitSpec s;
    s.id = kVolId;
    s.path = std::string("/volumes/") + kVolId;
    return s;
  }
  void Serve(const std::string& status, int size = 1) {
    http.On("GET", std::string("/volumes/") + kVolId, 200,
            {{"volume", Volume(kVolId, "v", status, size)}});
  }

  FakeHttpClient http;
  FakeClock clock;
  std::ostringstream out, err;
};

TEST_F(WaitTest, PollsUntilAvailablePrintingEachChangeOnce) {
  Serve("creating");
  Serve("creating");
  Serve("available");
  auto r = Wait(Spec());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["status"], "available");
  EXPECT_EQ(clock.sleeps, 2);
  EXPECT_DOUBLE_EQ(clock.now, 1000.4);  // 0.2 s between polls
  EXPECT_EQ(err.str(),
            std::string("volume ") + kVolId + ": creating\nvolume " + kVolId + ": available\n");
  EXPECT_EQ(out.str(), "");
}

TEST_F(WaitTest, TtyProgressIsOneRewrittenLine) {
  Serve("creating");
  Serve("available");
  ASSERT_TRUE(Wait(Spec(), /*tty=*/true).ok());
  std::string e = err.str();
  EXPECT_EQ(e.find('\n'), e.size() - 1);  // one line, ended once
  EXPECT_NE(e.find("\rvolume "), std::string::npos);
  EXPECT_NE(e.find(": creating  0s"), std::string::npos);
  EXPECT_NE(e.find(": available  0s"), std::string::npos);
}

TEST_F(WaitTest, ErrorStatusFailsWithLatestUserMessage) {
  Serve("creating");
  Serve("error");
  http.On("GET", "/messages", 200,
          {{"messages",
            {{{"user_message", "older"}, {"created_at", "2026-01-01T00:00:00.000000"}},
             {{"user_message",
               "schedule allocate volume:Could not find any available weighted backend."},
              {"created_at", "2026-01-02T00:00:00.000000"}}}}});
  auto r = Wait(Spec());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            std::string("volume ") + kVolId +
                " is in status 'error': schedule allocate volume:Could not find any available "
                "weighted backend.");
  auto msgs = http.Find("GET", "/messages");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(testing::QueryValue(msgs[0], "resource_uuid"), kVolId);
}

TEST_F(WaitTest, ErrorWithoutMessagesEndpointStillFails) {
  Serve("error_extending");
  auto r = Wait(Spec());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            std::string("volume ") + kVolId + " is in status 'error_extending'");
}

TEST_F(WaitTest, TimesOut) {
  Serve("creating");
  auto r = Wait(Spec(), false, /*timeout=*/2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), std::string("timed out after 2 s waiting for volume ") + kVolId +
                                      " (status 'creating')");
  EXPECT_GE(clock.now - 1000, 2.0);
  EXPECT_LT(clock.now - 1000, 2.5);
}

TEST_F(WaitTest, UntilGoneSucceedsOn404) {
  Serve("deleting");
  http.On("GET", std::string("/volumes/") + kVolId, 404,
          {{"itemNotFound", {{"code", 404}, {"message", "gone"}}}});
  WaitSpec spec = Spec();
  spec.until_gone = true;
  auto r = Wait(spec);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(err.str().find(": deleted"), std::string::npos);
}

TEST_F(WaitTest, UntilGoneFailsOnErrorDeleting) {
  Serve("error_deleting");
  WaitSpec spec = Spec();
  spec.until_gone = true;
  auto r = Wait(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(WaitTest, UntilGoneDoesNotStopAtAvailable) {
  Serve("available");
  Serve("deleting");
  http.On("GET", std::string("/volumes/") + kVolId, 404);
  WaitSpec spec = Spec();
  spec.until_gone = true;
  ASSERT_TRUE(Wait(spec).ok());
  EXPECT_EQ(http.requests.size(), 3u);
}

TEST_F(WaitTest, OtherErrorsWhilePollingAreReturned) {
  http.FailTransport("cannot reach x: refused");
  auto r = Wait(Spec());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST(StatusVerdict, FinalStates) {
  EXPECT_EQ(StatusVerdict({{"status", "available"}}, {}), Verdict::kDone);
  EXPECT_EQ(StatusVerdict({{"status", "in-use"}}, {}), Verdict::kDone);
  EXPECT_EQ(StatusVerdict({{"status", "error"}}, {}), Verdict::kFailed);
  EXPECT_EQ(StatusVerdict({{"status", "error_restoring"}}, {}), Verdict::kFailed);
  EXPECT_EQ(StatusVerdict({{"status", "creating"}}, {}), Verdict::kPending);
  EXPECT_EQ(StatusVerdict(json::object(), {}), Verdict::kPending);
}

}  // namespace
}  // namespace scoria::cli
