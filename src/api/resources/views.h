// The JSON shapes of resources, as Cinder's views build them (cinder/api/v3/views/*), per
// microversion. Pure functions of a record and the request (for links and the version).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/http/http.h"
#include "common/json_writer.h"
#include "db/attachments_repo.h"
#include "db/types_repo.h"
#include "db/volumes_repo.h"

namespace scoria::api {

// [{"rel":"self",...},{"rel":"bookmark",...}] for /<collection>/<id>.
nlohmann::json ResourceLinks(const Request& req, const std::string& collection,
                             const std::string& id);
// The request header with which a client asks for Scoria's additions to Cinder's views
// (backups: parent_id, progress, verify_result, verified_at; messages: expires_at). The scoria
// CLI sends it; cinder, openstack and tempest (whose schemas refuse unknown keys) do not, and
// get Cinder's keys only.
inline constexpr char kScoriaDetailsHeader[] = "X-Scoria-Details";
// Whether the request asks for them ("X-Scoria-Details: true").
bool WantsScoriaDetails(const Request& req);
// Cinder's volume status as users see it.
std::string DisplayVolumeStatus(const std::string& status);

// Volumes are listed in hundreds, so their views write JSON text directly (common/
// json_writer.h) instead of building trees. Each writes one object value into `w`.
void WriteVolumeSummary(JsonWriter& w, const Request& req, const db::VolumeRecord& v);
// attachments: the volume's rows; only attached ones are shown (Cinder's shape, host_name only
// for admins).
// Cinder adds the extension attributes (os-vol-tenant-attr:tenant_id, and for admins
// os-vol-host-attr:host and the os-vol-mig-status-attr pair) to show and detail only: the
// answers of create and update go without them (VolumeExtras::kWithout), which tempest's
// schemas check.
enum class VolumeExtras { kWith, kWithout };
void WriteVolumeDetail(JsonWriter& w, const Request& req, const db::VolumeRecord& v,
                       const std::string& type_name,
                       const std::vector<db::AttachmentRecord>& attachments = {},
                       VolumeExtras extras = VolumeExtras::kWith);
// WriteVolumeDetail's object as a string of JSON text (one volume: show, create, update).
std::string VolumeDetailJson(const Request& req, const db::VolumeRecord& v,
                             const std::string& type_name,
                             const std::vector<db::AttachmentRecord>& attachments = {},
                             VolumeExtras extras = VolumeExtras::kWith);
nlohmann::json VolumeTypeView(const Request& req, const db::VolumeTypeRecord& t);

// Attachments (cinder/api/v3/views/attachments.py): summary {id, status (= attach_status),
// instance, volume_id}; detail adds attached_at/detached_at ("" when unset), attach_mode
// ("null" when unset) and connection_info ({} until exported).
nlohmann::json AttachmentSummaryView(const db::AttachmentRecord& a);
nlohmann::json AttachmentDetailView(const db::AttachmentRecord& a);

// Optional timestamps render as null.
nlohmann::json TimeOrNull(const std::optional<int64_t>& micros);

}  // namespace scoria::api
