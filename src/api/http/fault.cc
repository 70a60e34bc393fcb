#include "api/http/fault.h"

#include <spdlog/spdlog.h>

namespace scoria::api {

const char* FaultName(int http_status) {
  switch (http_status) {
    case 400: return "badRequest";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "itemNotFound";
    case 405: return "badMethod";
    case 409: return "conflictingRequest";
    case 413: return "overLimit";
    case 415: return "badMediaType";
    case 429: return "overLimit";
    case 501: return "notImplemented";
    case 503: return "serviceUnavailable";
    default: return "computeFault";
  }
}

Response FaultResponse(int http_status, std::string message) {
  nlohmann::json body;
  body[FaultName(http_status)] = {{"code", http_status}, {"message", std::move(message)}};
  return JsonResponse(http_status, body);
}

Response FaultResponse(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
      return FaultResponse(400, status.message());
    case StatusCode::kPermissionDenied:
      return FaultResponse(403, status.message());
    case StatusCode::kNotFound:
      return FaultResponse(404, status.message());
    case StatusCode::kAlreadyExists:
    case StatusCode::kConflict:
      return FaultResponse(409, status.message());
    case StatusCode::kResourceExhausted: {
      // Cinder's QuotaError carries Retry-After 0: the client may retry once usage drops.
      nlohmann::json body;
      body["overLimit"] = {{"code", 413}, {"message", status.message()}, {"retryAfter", "0"}};
      Response r = JsonResponse(413, body);
      r.SetHeader("Retry-After", "0");
      return r;
    }
    case StatusCode::kUnsupportedVersion:
      return FaultResponse(406, status.message());
    case StatusCode::kNotImplemented:
      return FaultResponse(501, status.message());
    case StatusCode::kUnavailable:
      return FaultResponse(503, status.message());
    case StatusCode::kUnauthenticated:
      // The caller adds WWW-Authenticate (it alone knows the auth strategy's realm).
      return FaultResponse(401, status.message());
    case StatusCode::kOk:
    case StatusCode::kInternal:
      break;
  }
  spdlog::error("internal error answered with 500: {}", status.ToString());
  return FaultResponse(500, kInternalErrorMessage);
}

}  // namespace scoria::api
