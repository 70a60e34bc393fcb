// OpenS3Store: an S3 bucket as a BackupStore (store.h), for `backup_driver = s3` (Cinder's
// S3BackupDriver options). Object "a/b/c" is the key "a/b/c" of the bucket, so chunks keep
// their content-addressed names and deduplication holds as on the POSIX store; the objects are
// the repository's own (docs/format/backup.md), not Cinder's.
//
// Wire: path-style URLs (<endpoint>/<bucket>/<key>: works with radosgw and any S3 on an IP
// address), AWS Signature Version 4 signed here with OpenSSL (region "us-east-1" unless set,
// which radosgw and most gateways accept), the payload's SHA-256 signed too so a corrupted
// upload is refused by the server. An object smaller than `multipart_threshold` is one PUT;
// a larger one is a multipart upload of `part_size` parts (aborted when a part or the
// completion fails, so no orphan parts stay billed). Atomicity: S3 makes an object visible
// only when its PUT (or CompleteMultipartUpload) succeeds, whole; a later PUT replaces it
// whole. Durability: an answered PUT is durable, so Sync() is a no-op.
//
// Errors as store.h says, plus: 5xx answers and transport failures are retried with back-off
// (object_http.h) and end as Unavailable; 403 and other authentication refusals are
// FailedPrecondition naming the endpoint, bucket and access key (never the secret); other
// unexpected answers are Internal with the S3 error code.
//
// Threading: thread-safe; every call takes its own connection from a small pool.
#pragma once

#include <memory>
#include <string>

#include "backup/http_store_options.h"
#include "backup/store.h"

namespace scoria::backup {

struct S3StoreOptions {
  std::string endpoint_url;  // backup_s3_endpoint_url: "http://127.0.0.1:7480"
  std::string access_key;    // backup_s3_store_access_key
  std::string secret_key;    // backup_s3_store_secret_key (never logged nor in messages)
  std::string bucket;        // backup_s3_store_bucket; created when missing
  std::string region = "us-east-1";
  // Objects larger than this go up as multipart uploads of part_size parts. S3 wants every
  // part but the last >= 5 MiB.
  size_t multipart_threshold = 52428800;  // backup_s3_object_size
  size_t part_size = 52428800;
  int max_keys = 1000;  // keys per ListObjectsV2 page (tests use small pages)
  // attempts: backup_s3_retry_max_attempts; stall_timeout_s: backup_s3_timeout; verify_tls:
  // backup_s3_verify_ssl; ca_file: backup_s3_ca_cert_file; max_connections:
  // backup_s3_max_pool_connections.
  HttpStoreOptions http;
};

// Checks the options (InvalidArgument naming the bad one), then makes sure the bucket exists
// (HEAD, and PUT when it does not). FailedPrecondition when the credentials are refused,
// Unavailable when the endpoint does not answer after the retries.
[[nodiscard]] Result<std::shared_ptr<BackupStore>> OpenS3Store(const S3StoreOptions& options);

// Exposed for tests: the SigV4 signing key and signature of a string to sign, lower-case hex.
std::string S3SignatureForTest(const std::string& secret, const std::string& date,
                               const std::string& region, const std::string& service,
                               const std::string& string_to_sign);

}  // namespace scoria::backup
