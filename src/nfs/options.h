// NFS shares and mount options as Cinder spells them, parsed for a user-space client (libnfs).
//
// A share is "host:/export" (IPv6 hosts in brackets: "[::1]:/export"), optionally followed on
// its line of nfs_shares_config by mount options, either "-o a=1,b" or "a=1,b" (Cinder passes
// them to mount(8); here they are read by ParseMountOptions). Mount options are the
// comma-separated list of nfs_mount_options / backup_mount_options.
//
// Options that mean something to libnfs are applied: nfsvers/vers (only 3: libnfs's NFSv4
// writes fail against ganesha), port (NFS port, skips rpcbind), mountport, timeo (deciseconds
// per RPC, as mount(8)), uid, gid, proto=tcp. Options that only steer the kernel client (rw,
// hard, soft, intr, retrans, noatime, actimeo, ac/noac, lookupcache, _netdev, sec=sys, ...)
// are accepted and ignored, and named in `ignored` so the caller can log them once. Anything
// else is InvalidArgument naming the option: better a clear error at start than a silently
// different mount.
//
// Pure functions (ParseSharesFile reads a file); any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace scoria::nfs {

struct MountOptions {
  int nfs_port = 0;        // 0: ask rpcbind
  int mount_port = 0;      // 0: ask rpcbind
  int timeout_ms = 60000;  // per RPC; libnfs counts whole seconds
  int uid = -1;            // -1: libnfs's default (the process's uid)
  int gid = -1;
  std::vector<std::string> ignored;  // kernel-only options that were accepted and ignored
};

struct Share {
  std::string host;     // as written, without brackets
  std::string path;     // the export, starting with '/'
  std::string options;  // per-share options from the shares file ("" if none)
  // "host:/export", the form stored in provider_location and shown in messages.
  std::string Spec() const;
};

// Parses "host:/export" (no options). InvalidArgument with the expected form otherwise.
[[nodiscard]] Result<Share> ParseShare(const std::string& spec);
// Parses one line of a shares file: "host:/export [-o] [opts]"; "#" starts a comment.
// An empty or comment line gives a Share with an empty host.
[[nodiscard]] Result<Share> ParseShareLine(const std::string& line);
// Reads nfs_shares_config: one share a line, blanks and comments skipped, duplicates refused.
// NotFound when the file is missing; InvalidArgument naming file and line on a bad line or
// when it lists no share.
[[nodiscard]] Result<std::vector<Share>> ParseSharesFile(const std::string& path);
// Parses a comma-separated option list on top of `base` (a share's own options override the
// backend's). See the model above for what is applied, ignored and refused.
[[nodiscard]] Result<MountOptions> ParseMountOptions(const std::string& text,
                                                     MountOptions base = {});

}  // namespace scoria::nfs
