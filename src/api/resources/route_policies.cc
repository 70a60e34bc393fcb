// Which Cinder policy rule guards each route: the names of cinder/policies/*.py (Zed), checked
// by the Router before the handler (router.h) against the caller's own project, or the
// {project_id} of the path. What a rule cannot see there, the resource's owner, the handlers
// enforce by loading only rows the caller may see (visibility.h: another project's resource is
// a 404, as Cinder hides existence). Routes Cinder checks no rule on are open to any
// authenticated caller (Router::kOpenToAnyCaller).
#include "api/resources/api_env.h"

namespace scoria::api {
namespace {

constexpr const char* kOpen = Router::kOpenToAnyCaller;

struct RouteRule {
  const char* method;
  const char* pattern;
  const char* rule;
};

struct ActionRule {
  const char* method;
  const char* pattern;
  const char* action;
  const char* rule;
};

constexpr RouteRule kRoutes[] = {
    {"POST", "/volumes", "volume:create"},
    {"GET", "/volumes", "volume:get_all"},
    {"GET", "/volumes/detail", "volume:get_all"},
    {"GET", "/volumes/summary", "volume:get_all"},
    {"GET", "/volumes/{volume_id}", "volume:get"},
    {"PUT", "/volumes/{volume_id}", "volume:update"},
    {"DELETE", "/volumes/{volume_id}", "volume:delete"},
    // An action without a rule of its own is refused by the handler (400) or not supported
    // (501); it still needs the right to change the volume to get that far.
    {"POST", "/volumes/{volume_id}/action", "volume:update"},
    {"GET", "/volumes/{volume_id}/metadata", "volume:get_volume_metadata"},
    {"POST", "/volumes/{volume_id}/metadata", "volume:create_volume_metadata"},
    {"PUT", "/volumes/{volume_id}/metadata", "volume:update_volume_metadata"},
    {"GET", "/volumes/{volume_id}/metadata/{key}", "volume:get_volume_metadata"},
    {"PUT", "/volumes/{volume_id}/metadata/{key}", "volume:update_volume_metadata"},
    {"DELETE", "/volumes/{volume_id}/metadata/{key}", "volume:delete_volume_metadata"},

    {"POST", "/snapshots", "volume:create_snapshot"},
    {"GET", "/snapshots", "volume:get_all_snapshots"},
    {"GET", "/snapshots/detail", "volume:get_all_snapshots"},
    {"GET", "/snapshots/{snapshot_id}", "volume:get_snapshot"},
    {"PUT", "/snapshots/{snapshot_id}", "volume:update_snapshot"},
    {"DELETE", "/snapshots/{snapshot_id}", "volume:delete_snapshot"},
    {"POST", "/snapshots/{snapshot_id}/action", "volume:update_snapshot"},
    {"GET", "/snapshots/{snapshot_id}/metadata", "volume:get_snapshot_metadata"},
    {"POST", "/snapshots/{snapshot_id}/metadata", "volume:update_snapshot_metadata"},
    {"PUT", "/snapshots/{snapshot_id}/metadata", "volume:update_snapshot_metadata"},
    {"GET", "/snapshots/{snapshot_id}/metadata/{key}", "volume:get_snapshot_metadata"},
    {"PUT", "/snapshots/{snapshot_id}/metadata/{key}", "volume:update_snapshot_metadata"},
    {"DELETE", "/snapshots/{snapshot_id}/metadata/{key}", "volume:delete_snapshot_metadata"},

    {"GET", "/types", "volume_extension:type_get_all"},
    {"POST", "/types", "volume_extension:type_create"},
    {"GET", "/types/default", "volume_extension:type_get"},
    {"GET", "/types/{type_id}", "volume_extension:type_get"},
    {"PUT", "/types/{type_id}", "volume_extension:type_update"},
    {"DELETE", "/types/{type_id}", "volume_extension:type_delete"},
    {"GET", "/types/{type_id}/extra_specs", "volume_extension:types_extra_specs:index"},
    {"POST", "/types/{type_id}/extra_specs", "volume_extension:types_extra_specs:create"},
    {"GET", "/types/{type_id}/extra_specs/{key}", "volume_extension:types_extra_specs:show"},
    {"PUT", "/types/{type_id}/extra_specs/{key}", "volume_extension:types_extra_specs:update"},
    {"DELETE", "/types/{type_id}/extra_specs/{key}", "volume_extension:types_extra_specs:delete"},
    {"POST", "/types/{type_id}/action", "volume_extension:type_update"},
    {"GET", "/types/{type_id}/os-volume-type-access",
     "volume_extension:volume_type_access:get_all_for_type"},

    {"POST", "/attachments", "volume:attachment_create"},
    {"GET", "/attachments", kOpen},  // Cinder lists the caller's project's attachments unchecked
    {"GET", "/attachments/detail", kOpen},
    {"GET", "/attachments/{attachment_id}", kOpen},
    {"PUT", "/attachments/{attachment_id}", "volume:attachment_update"},
    {"DELETE", "/attachments/{attachment_id}", "volume:attachment_delete"},
    {"POST", "/attachments/{attachment_id}/action", "volume:attachment_update"},

    {"POST", "/backups", "backup:create"},
    {"GET", "/backups", "backup:get_all"},
    {"GET", "/backups/detail", "backup:get_all"},
    {"POST", "/backups/import_record", "backup:backup-import"},
    {"GET", "/backups/{backup_id}", "backup:get"},
    {"PUT", "/backups/{backup_id}", "backup:update"},
    {"DELETE", "/backups/{backup_id}", "backup:delete"},
    {"POST", "/backups/{backup_id}/restore", "backup:restore"},
    {"GET", "/backups/{backup_id}/export_record", "backup:export-import"},
    {"POST", "/backups/{backup_id}/action", "backup:update"},

    {"POST", "/os-volume-transfer", "volume:create_transfer"},
    {"GET", "/os-volume-transfer", "volume:get_all_transfers"},
    {"GET", "/os-volume-transfer/detail", "volume:get_all_transfers"},
    {"GET", "/os-volume-transfer/{transfer_id}", "volume:get_transfer"},
    {"DELETE", "/os-volume-transfer/{transfer_id}", "volume:delete_transfer"},
    {"POST", "/os-volume-transfer/{transfer_id}/accept", "volume:accept_transfer"},
    {"POST", "/volume-transfers", "volume:create_transfer"},
    {"GET", "/volume-transfers", "volume:get_all_transfers"},
    {"GET", "/volume-transfers/detail", "volume:get_all_transfers"},
    {"GET", "/volume-transfers/{transfer_id}", "volume:get_transfer"},
    {"DELETE", "/volume-transfers/{transfer_id}", "volume:delete_transfer"},
    {"POST", "/volume-transfers/{transfer_id}/accept", "volume:accept_transfer"},

    {"GET", "/os-availability-zone", kOpen},  // as Cinder: any caller may list zones
    {"GET", "/extensions", kOpen},
    {"GET", "/os-services", "volume_extension:services:index"},
    {"PUT", "/os-services/{action}", "volume_extension:services:update"},
    {"GET", "/os-hosts", "volume_extension:hosts"},
    {"GET", "/os-hosts/{host}", "volume_extension:hosts"},
    {"GET", "/scheduler-stats/get_pools", "scheduler_extension:scheduler_stats:get_pools"},
    {"GET", "/limits", kOpen},  // a caller's own limits, as Cinder
    {"GET", "/os-quota-sets/{project_id}", "volume_extension:quotas:show"},
    {"GET", "/os-quota-sets/{project_id}/defaults", "volume_extension:quotas:show"},
    {"PUT", "/os-quota-sets/{project_id}", "volume_extension:quotas:update"},
    {"DELETE", "/os-quota-sets/{project_id}", "volume_extension:quotas:delete"},
    {"GET", "/os-quota-class-sets/{class_name}", "volume_extension:quota_classes:get"},
    {"PUT", "/os-quota-class-sets/{class_name}", "volume_extension:quota_classes:update"},
    {"GET", "/messages", "message:get_all"},
    {"GET", "/messages/{message_id}", "message:get"},
    {"DELETE", "/messages/{message_id}", "message:delete"},
};

constexpr ActionRule kActions[] = {
    {"POST", "/volumes/{volume_id}/action", "os-extend", "volume:extend"},
    {"POST", "/volumes/{volume_id}/action", "os-reset_status",
     "volume_extension:volume_admin_actions:reset_status"},
    {"POST", "/volumes/{volume_id}/action", "os-force_delete",
     "volume_extension:volume_admin_actions:force_delete"},
    {"POST", "/volumes/{volume_id}/action", "os-force_detach",
     "volume_extension:volume_admin_actions:force_detach"},
    {"POST", "/volumes/{volume_id}/action", "os-migrate_volume",
     "volume_extension:volume_admin_actions:migrate_volume"},
    {"POST", "/volumes/{volume_id}/action", "os-set_bootable", "volume:update"},
    {"POST", "/volumes/{volume_id}/action", "os-update_readonly_flag",
     "volume:update_readonly_flag"},
    {"POST", "/volumes/{volume_id}/action", "os-retype", "volume:retype"},
    {"POST", "/volumes/{volume_id}/action", "revert", "volume:revert_to_snapshot"},
    {"POST", "/volumes/{volume_id}/action", "os-volume_upload_image",
     "volume_extension:volume_actions:upload_image"},
    {"POST", "/volumes/{volume_id}/action", "os-unmanage", "volume_extension:volume_unmanage"},
    {"POST", "/volumes/{volume_id}/action", "os-reimage", "volume:reimage"},
    {"POST", "/volumes/{volume_id}/action", "os-reserve",
     "volume_extension:volume_actions:reserve"},
    {"POST", "/volumes/{volume_id}/action", "os-unreserve",
     "volume_extension:volume_actions:unreserve"},
    {"POST", "/volumes/{volume_id}/action", "os-initialize_connection",
     "volume_extension:volume_actions:initialize_connection"},
    {"POST", "/volumes/{volume_id}/action", "os-terminate_connection",
     "volume_extension:volume_actions:terminate_connection"},
    {"POST", "/volumes/{volume_id}/action", "os-attach", "volume_extension:volume_actions:attach"},
    {"POST", "/volumes/{volume_id}/action", "os-detach", "volume_extension:volume_actions:detach"},
    {"POST", "/volumes/{volume_id}/action", "os-begin_detaching",
     "volume_extension:volume_actions:begin_detaching"},
    {"POST", "/volumes/{volume_id}/action", "os-roll_detaching",
     "volume_extension:volume_actions:roll_detaching"},

    {"POST", "/snapshots/{snapshot_id}/action", "os-reset_status",
     "volume_extension:snapshot_admin_actions:reset_status"},
    {"POST", "/snapshots/{snapshot_id}/action", "os-force_delete",
     "volume_extension:snapshot_admin_actions:force_delete"},
    {"POST", "/snapshots/{snapshot_id}/action", "os-update_snapshot_status",
     "snapshot_extension:snapshot_actions:update_snapshot_status"},
    {"POST", "/snapshots/{snapshot_id}/action", "os-unmanage",
     "snapshot_extension:snapshot_unmanage"},

    {"POST", "/types/{type_id}/action", "addProjectAccess",
     "volume_extension:volume_type_access:addProjectAccess"},
    {"POST", "/types/{type_id}/action", "removeProjectAccess",
     "volume_extension:volume_type_access:removeProjectAccess"},

    {"POST", "/attachments/{attachment_id}/action", "os-complete", "volume:attachment_complete"},

    {"POST", "/backups/{backup_id}/action", "os-reset_status",
     "volume_extension:backup_admin_actions:reset_status"},
    {"POST", "/backups/{backup_id}/action", "os-force_delete",
     "volume_extension:backup_admin_actions:force_delete"},

    {"PUT", "/os-services/{action}", "freeze", "volume:freeze_host"},
    {"PUT", "/os-services/{action}", "thaw", "volume:thaw_host"},
    {"PUT", "/os-services/{action}", "failover_host", "volume:failover_host"},
    {"PUT", "/os-services/{action}", "failover", "volume:failover_host"},
};

}  // namespace

void ProtectAllRoutes(Router& router) {
  for (const RouteRule& r : kRoutes) router.Protect(r.method, r.pattern, r.rule);
  for (const ActionRule& a : kActions) router.ProtectAction(a.method, a.pattern, a.action, a.rule);
}

}  // namespace scoria::api
