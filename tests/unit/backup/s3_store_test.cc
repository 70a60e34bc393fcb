// The S3 store beyond the contract suite (store_test.cc): SigV4 against AWS's published
// example, multipart uploads and paged listings against the real radosgw, a wrong secret,
// and the retry path against a fake endpoint that answers 503.
#include "backup/s3_store.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "fake_http_server.h"
#include "paged_list_check.h"
#include "rgw_test_env.h"
#include "test_util.h"

namespace scoria::backup {
namespace {

using testing::FakeHttpServer;
using testing::TextBytes;

std::span<const std::byte> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

S3StoreOptions RgwOptions(const rgw_test::Env& env, const std::string& stem) {
  S3StoreOptions o;
  o.endpoint_url = env.url;
  o.access_key = env.s3_access_key;
  o.secret_key = env.s3_secret_key;
  o.bucket = rgw_test::UniqueBucket(stem);
  return o;
}

// A store on the fake endpoint, quick to give up.
S3StoreOptions FakeOptions(const FakeHttpServer& fake, int attempts) {
  S3StoreOptions o;
  o.endpoint_url = fake.url();
  o.access_key = "a";
  o.secret_key = "s";
  o.bucket = "backups";
  o.http.attempts = attempts;
  o.http.backoff_initial_ms = 10;
  o.http.backoff_max_ms = 20;
  return o;
}

// Runs a shell command, returns its stdout.
std::string RunShell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST(S3SignatureTest, MatchesAwsPublishedExample) {
  // docs.aws.amazon.com, "Create a signature for AWS Signature Version 4", the IAM example.
  EXPECT_EQ(
      S3SignatureForTest("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam",
                         "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/"
                         "aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef2"
                         "3edd43b7e1a59"),
      "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(S3StoreTest, BadOptionsAreRefusedBeforeAnyRequest) {
  S3StoreOptions o;
  o.endpoint_url = "ftp://127.0.0.1:1";
  o.access_key = "a";
  o.secret_key = "s";
  o.bucket = "backups";
  auto r = OpenS3Store(o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("backup_s3_endpoint_url"), std::string::npos);
  o.endpoint_url = "http://127.0.0.1:1";
  o.bucket = "Bad_Bucket";
  r = OpenS3Store(o);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("backup_s3_store_bucket"), std::string::npos);
  o.bucket = "backups";
  o.secret_key = "";
  EXPECT_EQ(OpenS3Store(o).status().code(), StatusCode::kInvalidArgument);
  o.secret_key = "s";
  o.part_size = 1 << 20;
  EXPECT_EQ(OpenS3Store(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(S3StoreTest, MultipartUploadAboveTheThreshold) {
  auto env = rgw_test::GetEnv();
  SCORIA_REQUIRE_RGW(env);
  auto o = RgwOptions(env, "s3-multipart");
  o.multipart_threshold = 5 << 20;
  o.part_size = 5 << 20;
  auto s = OpenS3Store(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto big = TextBytes((12 << 20) + 3, 7);  // 3 parts: 5 + 5 + 2 MiB and 3 bytes
  ASSERT_TRUE((*s)->Put("chunks/mp/big", big).ok());
  auto got = (*s)->Get("chunks/mp/big");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, big);
  EXPECT_EQ((*s)->Stat("chunks/mp/big")->size, big.size());
  // Seen by another client (boto3): a multipart object's ETag ends in "-<parts>", and no
  // upload is left in progress.
  std::string out = RunShell(
      "/usr/bin/python3 -c 'import boto3,sys\n"
      "from botocore.config import Config\n"
      "c=boto3.client(\"s3\",endpoint_url=\"" +
      env.url + "\",aws_access_key_id=\"" + env.s3_access_key + "\",aws_secret_access_key=\"" +
      env.s3_secret_key +
      "\",region_name=\"us-east-1\",config=Config(s3={\"addressing_style\":\"path\"}))\n"
      "print(c.head_object(Bucket=\"" +
      o.bucket +
      "\",Key=\"chunks/mp/big\")[\"ETag\"])\n"
      "print(len(c.list_multipart_uploads(Bucket=\"" +
      o.bucket + "\").get(\"Uploads\",[])))' 2>&1");
  EXPECT_NE(out.find("-3\""), std::string::npos) << out;
  EXPECT_NE(out.find("\n0\n"), std::string::npos) << out;
  // Below the threshold: one PUT, a plain ETag.
  ASSERT_TRUE((*s)->Put("chunks/mp/small", Bytes("small")).ok());
  EXPECT_EQ((*s)->Stat("chunks/mp/small")->size, 5u);
}

TEST(S3StoreTest, ListAcrossPages) {
  auto env = rgw_test::GetEnv();
  SCORIA_REQUIRE_RGW(env);
  auto o = RgwOptions(env, "s3-pages");
  o.max_keys = 7;
  auto s = OpenS3Store(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  testing::ExpectListAcrossPagesOfSeven(**s);
}

TEST(S3StoreTest, WrongSecretIsAClearErrorWithoutTheSecret) {
  auto env = rgw_test::GetEnv();
  SCORIA_REQUIRE_RGW(env);
  auto o = RgwOptions(env, "s3-badkey");
  o.secret_key = "not-the-secret-0xC0FFEE";
  auto s = OpenS3Store(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition) << s.status().ToString();
  const std::string& m = s.status().message();
  EXPECT_NE(m.find(env.url), std::string::npos) << m;
  EXPECT_NE(m.find(o.bucket), std::string::npos) << m;
  EXPECT_NE(m.find(env.s3_access_key), std::string::npos) << m;
  EXPECT_EQ(m.find("not-the-secret"), std::string::npos) << m;
  EXPECT_EQ(m.find(env.s3_secret_key), std::string::npos) << m;
}

TEST(S3StoreTest, Retries503ThenSucceedsOrEndsUnavailable) {
  FakeHttpServer fake;
  S3StoreOptions o = FakeOptions(fake, 3);
  fake.Script({503, 503}, 200);  // the bucket HEAD succeeds on the third try
  auto s = OpenS3Store(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(fake.requests(), 3);
  fake.Script({503}, 200);
  EXPECT_TRUE((*s)->Put("chunks/aa/x", Bytes("x")).ok());
  EXPECT_EQ(fake.requests(), 5);
  fake.Script({}, 503);  // down for good: every attempt, then Unavailable
  Status st = (*s)->Put("chunks/aa/y", Bytes("y"));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find(fake.url()), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("503"), std::string::npos) << st.message();
  EXPECT_EQ(fake.requests(), 8);
  EXPECT_EQ((*s)->Get("chunks/aa/x").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(fake.requests(), 11);
  // A 4xx is not retried.
  fake.Script({}, 400);
  EXPECT_EQ((*s)->Delete("chunks/aa/x").code(), StatusCode::kInternal);
  EXPECT_EQ(fake.requests(), 12);
}

TEST(S3StoreTest, FailedMultipartUploadIsAborted) {
  FakeHttpServer fake;
  S3StoreOptions o = FakeOptions(fake, 2);
  o.multipart_threshold = o.part_size = 5 << 20;
  fake.SetOkBody(
      "<InitiateMultipartUploadResult><UploadId>up-1</UploadId>"
      "</InitiateMultipartUploadResult>");
  fake.Script({200}, 200);
  auto s = OpenS3Store(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // start 200, part 1 200, part 2 refused for good (403), then the abort
  fake.Script({200, 200, 403}, 204);
  Status st = (*s)->Put("chunks/mp/big", TextBytes((6 << 20) + 1, 3));
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  auto lines = fake.request_lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[1], "POST /backups/chunks/mp/big?uploads= HTTP/1.1");
  EXPECT_EQ(lines[2], "PUT /backups/chunks/mp/big?partNumber=1&uploadId=up-1 HTTP/1.1");
  EXPECT_EQ(lines[3], "PUT /backups/chunks/mp/big?partNumber=2&uploadId=up-1 HTTP/1.1");
  EXPECT_EQ(lines[4], "DELETE /backups/chunks/mp/big?uploadId=up-1 HTTP/1.1");
}

TEST(S3StoreTest, NothingListeningIsUnavailable) {
  int port;
  {
    FakeHttpServer probe;  // a port that was free a moment ago and is closed now
    port = std::stoi(probe.url().substr(17));
  }
  S3StoreOptions o;
  o.endpoint_url = "http://127.0.0.1:" + std::to_string(port);
  o.access_key = "a";
  o.secret_key = "s";
  o.bucket = "backups";
  o.http.attempts = 2;
  o.http.backoff_initial_ms = 10;
  auto s = OpenS3Store(o);
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable) << s.status().ToString();
}

}  // namespace
}  // namespace scoria::backup
