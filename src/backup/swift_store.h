// OpenSwiftStore: a Swift container as a BackupStore (store.h), for `backup_driver = swift`
// (Cinder's SwiftBackupDriver options). Object "a/b/c" is the object "a/b/c" of the container,
// so chunks keep their content-addressed names and deduplication holds; the objects are the
// repository's own (docs/format/backup.md), not Cinder's.
//
// Auth: TempAuth-style v1 (`GET <auth_url>` with X-Auth-User/X-Auth-Key; radosgw answers on
// /auth/1.0), which gives a token and the storage URL (used unless `storage_url` overrides
// it). A 401 on any request renews the token once and repeats the request: tokens expire
// (radosgw: rgw_swift_token_expiration, a day by default) while a daemon runs for months.
//
// Objects are single PUTs with their MD5 as ETag, so Swift refuses a body corrupted on the way.
// Swift's limit for one object is 5 GiB; the repository's objects are chunks (a few MiB) and
// manifests, far below it, so there is no segmented (SLO/DLO) upload and a Put above 5 GiB is
// InvalidArgument. Atomicity: Swift makes a PUT visible whole when it succeeds and a later PUT
// replaces it whole. Durability: an answered PUT is durable, so Sync() is a no-op.
//
// Errors as store.h says, plus: 5xx answers and transport failures are retried with back-off
// (object_http.h) and end as Unavailable; refused credentials are FailedPrecondition naming
// the auth URL and user (never the key); other unexpected answers are Internal.
//
// Threading: thread-safe; every call takes its own connection from a small pool; the token is
// shared and renewed by one caller at a time.
#pragma once

#include <memory>
#include <string>

#include "backup/http_store_options.h"
#include "backup/store.h"

namespace scoria::backup {

struct SwiftStoreOptions {
  std::string auth_url;     // backup_swift_auth_url: "http://127.0.0.1:7480/auth/1.0"
  std::string storage_url;  // backup_swift_url: overrides the auth answer's X-Storage-Url
  std::string user;         // backup_swift_user: "account:user"
  std::string key;          // backup_swift_key (never logged nor in messages)
  std::string container = "volumebackups";  // backup_swift_container; created when missing
  int limit = 10000;                        // names per listing page (Swift's own maximum)
  // attempts: backup_swift_retry_attempts + 1 (the first try); backoff_initial_ms:
  // backup_swift_retry_backoff in ms; verify_tls: !backup_swift_auth_insecure; ca_file:
  // backup_swift_ca_cert_file.
  HttpStoreOptions http = Defaults();

  // Cinder's defaults: 3 retries 2 s apart (ours double each time, up to 32 s).
  static HttpStoreOptions Defaults() {
    HttpStoreOptions h;
    h.attempts = 4;
    h.backoff_initial_ms = 2000;
    h.backoff_max_ms = 32000;
    return h;
  }
};

// Checks the options (InvalidArgument naming the bad one), authenticates and creates the
// container when missing. FailedPrecondition when the credentials are refused, Unavailable
// when the gateway does not answer after the retries.
[[nodiscard]] Result<std::shared_ptr<BackupStore>> OpenSwiftStore(const SwiftStoreOptions& options);

// Tests: replaces the store's token with one the server does not know, as if it had expired.
void SwiftExpireTokenForTest(BackupStore& swift_store);

}  // namespace scoria::backup
