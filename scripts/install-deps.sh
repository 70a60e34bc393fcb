#!/usr/bin/env bash
# Installs the Debian packages Scoria needs to build, run and test. Idempotent: installs only
# what is missing, so `make run` and `make test` can call it every time.
set -euo pipefail
pkgs=(
  # build
  make g++ cmake ninja-build pkg-config clang clang-format clang-tidy libclang-rt-14-dev
  libboost-dev nlohmann-json3-dev libsqlite3-dev libpq-dev libspdlog-dev libcli11-dev
  libcurl4-openssl-dev libssl-dev liburing-dev libisal-dev libzstd-dev libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev
  # tests: real clients and tools
  /usr/bin/python3 python3-pytest python3-requests python3-cinderclient python3-openstackclient
  sqlite3 curl procps e2fsprogs
  # PostgreSQL for the cluster tests (started by the tests), ip netns for the multi-host ones
  postgresql iproute2
  libiscsi-bin qemu-utils qemu-block-extra tgt wrk restic zstd xfsprogs
  # NFS: libnfs for the nfs driver and backup store; ganesha + rpcbind started by the tests
  libnfs-dev nfs-ganesha nfs-ganesha-vfs rpcbind
  # Ceph: librbd/librados to build the rbd driver; a single-node cluster for its tests
  librbd-dev librados-dev ceph-mon ceph-mgr ceph-osd ceph-common radosgw
  # boto3: the object-store tests look into the bucket with another S3 client
  python3-boto3
  # Keystone (SQLite, fernet) under uwsgi for the keystone auth tests (tests/support/keystone_server.py);
  # the package installs and configures without systemd
  keystone uwsgi uwsgi-plugin-python3
  # Cinder's own API tests, run against scoriad + Keystone (tests/tempest/run_tempest.py)
  tempest cinder-tempest-plugin
)
missing=()
for p in "${pkgs[@]}"; do
  [[ $p == /* ]] && { [ -e "$p" ] || missing+=(python3); continue; }
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
