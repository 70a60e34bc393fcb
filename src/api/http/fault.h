// Cinder's error responses: the one place a Status becomes an HTTP status and a fault body.
//
// Every error leaves the API as `{"<faultName>": {"code": <http>, "message": "<text>"}}` with
// Content-Type application/json (cinder/api/openstack/wsgi.py Fault; docs cinder-api.md §1.3).
// cinderclient and openstacksdk read the first key's `message`. Fault names follow Cinder's
// table; codes Cinder has no name for (406, 500) get its default name "computeFault".
#pragma once

#include <string>

#include "api/http/http.h"
#include "common/status.h"

namespace scoria::api {

// Maps a non-OK Status to its fault response:
//   InvalidArgument, FailedPrecondition -> 400 badRequest
//   NotFound                            -> 404 itemNotFound
//   AlreadyExists, Conflict             -> 409 conflictingRequest
//   ResourceExhausted                   -> 413 overLimit, "retryAfter": "0", Retry-After: 0
//   UnsupportedVersion                  -> 406 computeFault (what Cinder sends)
//   NotImplemented                      -> 501 notImplemented
//   Unavailable                         -> 503 serviceUnavailable
//   Internal (and OK, a caller bug)     -> 500 computeFault with a generic message; the real
//                                          message is logged, never sent.
Response FaultResponse(const Status& status);

// A fault for framework errors that have no StatusCode (401 unauthorized, 405 badMethod,
// 413 overLimit for an oversized body, 415 badMediaType...). The name comes from Cinder's
// table by HTTP status; `message` is sent as is.
Response FaultResponse(int http_status, std::string message);

// Cinder's fault name for an HTTP status ("badRequest"...), "computeFault" if it has none.
const char* FaultName(int http_status);

// The message sent for 500s instead of the internal one (webob's HTTPInternalServerError text).
inline constexpr char kInternalErrorMessage[] =
    "The server has either erred or is incapable of performing the requested operation.";

}  // namespace scoria::api
