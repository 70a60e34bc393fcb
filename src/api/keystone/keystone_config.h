// The `[keystone_authtoken]` options of auth_strategy = keystone, as keystonemiddleware's
// auth_token names them, with its defaults; docs/auth.md ("Keystone") explains each one.
//
// Only the options Scoria acts on are here. `memcached_servers` and the other memcache_* options
// are accepted by the configuration and ignored: the token cache lives in the API process
// (TokenValidator), since Scoria's API is one process with many threads rather than many
// worker processes that would need to share a cache. A plain value: copied into the validator,
// read by any thread.
#pragma once

#include <string>
#include <vector>

namespace scoria::api::keystone {

struct KeystoneConfig {
  // Sent to clients refused with 401 in `WWW-Authenticate: Keystone uri="..."`: the public
  // identity endpoint where they get a token (e.g. "http://keystone:5000").
  std::string www_authenticate_uri;
  // Where Scoria itself authenticates and validates tokens (e.g. "http://keystone:5000"; a
  // trailing "/v3" is accepted). Required.
  std::string auth_url;
  // The service user Scoria validates tokens as (password method, project scope). It needs
  // Keystone's permission to validate other users' tokens: the `service` or `admin` role.
  std::string username;
  std::string password;  // never logged
  std::string project_name;
  std::string user_domain_name = "Default";
  std::string project_domain_name = "Default";
  // How long (seconds) a validated token is trusted without asking Keystone again; never past
  // the token's own expiry. -1 disables the cache. keystonemiddleware's default.
  int token_cache_time = 300;
  // A service token (X-Service-Token) counts as a service's only with one of these roles.
  std::vector<std::string> service_token_roles = {"service"};
  // true: a request whose service token lacks those roles is refused (401). false: the token
  // is still recorded as the request's service identity (keystonemiddleware's older
  // behaviour, warned about once). keystonemiddleware's default is true on
  // its master since April 2026 (false before).
  bool service_token_roles_required = true;
  // Seconds to connect to Keystone and to get a whole answer. keystonemiddleware has
  // http_connect_timeout (no default: the OS's) and retries 3 times; Scoria bounds both so
  // that an API thread never waits more than about http_request_timeout on a dead Keystone.
  int http_connect_timeout = 5;
  int http_request_timeout = 10;
};

}  // namespace scoria::api::keystone
