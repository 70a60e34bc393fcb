// TargetServer end to end over loopback TCP with file-backed volumes: several initiator
// connections on different reactors doing WRITE/READ through each reactor's io_uring ring while
// the control plane exports, revokes and unexports on other threads. Besides checking the data,
// this is the multi-threaded data path that `make tsan` runs under ThreadSanitizer (the other
// target tests are single-threaded).
#include "target/target_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "target/pdu.h"
#include "target/pdu_parser.h"
#include "target/text.h"
#include "volume/block_device.h"

namespace scoria::target {
namespace {

constexpr uint32_t kBlock = 512;
constexpr uint64_t kVolumeSize = 16ull << 20;
constexpr char kPrefix[] = "iqn.2010-10.org.openstack:";
constexpr char kInitiator[] = "iqn.2024-01.test:tsan";

class TempVolume {
 public:
  TempVolume() {
    char tmpl[] = "/tmp/scoria-target-server-test-XXXXXX";
    int fd = ::mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    path_ = tmpl;
    EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(kVolumeSize)), 0);
    ::close(fd);
  }
  ~TempVolume() { ::unlink(path_.c_str()); }
  std::shared_ptr<volume::BlockDevice> Open() const {
    auto r = volume::OpenFileBlockDevice(path_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : nullptr;
  }

 private:
  std::string path_;
};

// A minimal initiator: one connection, immediate data, one command at a time; no digests
// unless set_digests(true) before Login (then CRC32C both ways, checked on every PDU).
class Initiator {
 public:
  void set_digests(bool on) { want_digests_ = on; }
  int digest_errors() const { return digest_errors_; }

  ~Initiator() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool Connect(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    timeval tv{10, 0};  // a hung target fails the test instead of blocking it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }

  // Operational stage straight to full feature (no authentication configured). Returns the
  // login status (0 = success), or nullopt if the connection failed.
  std::optional<uint16_t> Login(const std::string& target, uint8_t isid_low) {
    Pdu p(Opcode::kLoginRequest);
    p.set_immediate(true);
    p.set_login_flags(true, false, kStageOperational, kStageFullFeature);
    p.set_isid(Isid{0x80, 0, 0, 0, 0, isid_low});
    p.set_itt(itt_++);
    p.set_cmd_sn(cmd_sn_);
    p.set_exp_stat_sn(0);
    p.set_data(SerializeText({{"InitiatorName", kInitiator},
                              {"TargetName", target},
                              {"SessionType", "Normal"},
                              {"HeaderDigest", want_digests_ ? "CRC32C" : "None"},
                              {"DataDigest", want_digests_ ? "CRC32C" : "None"},
                              {"InitialR2T", "No"},
                              {"ImmediateData", "Yes"},
                              {"MaxRecvDataSegmentLength", "262144"},
                              {"FirstBurstLength", "262144"},
                              {"MaxBurstLength", "262144"}}));
    if (!SendPdu(p)) return std::nullopt;
    auto r = RecvPdu();
    if (!r || r->raw_opcode() != static_cast<uint8_t>(Opcode::kLoginResponse)) {
      return std::nullopt;
    }
    exp_stat_sn_ = r->stat_sn() + 1;
    if (want_digests_) {
      const std::string text(r->data().begin(), r->data().end());
      if (text.find("HeaderDigest=CRC32C") == std::string::npos ||
          text.find("DataDigest=CRC32C") == std::string::npos) {
        return std::nullopt;
      }
      digests_ = DigestConfig{true, true};  // from the next PDU on (RFC 7143 13.1)
    }
    return static_cast<uint16_t>(r->status_class() << 8 | r->status_detail());
  }

  // WRITE(10) or READ(10) of `data.size()` bytes at `lba`, retried while the target answers
  // CHECK CONDITION (the unit attentions a new session or a capacity change raise). Returns the
  // final SCSI status, or nullopt when the connection is gone.
  std::optional<uint8_t> Io(bool write, uint32_t lba, std::vector<uint8_t>* data) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      auto st = IoOnce(write, lba, data);
      if (!st || *st != 0x02) return st;
    }
    return 0x02;
  }

  // ABORT TASK (immediate) for the task `ref_itt` sent as `ref_cmd_sn`. Returns the TMF
  // response code, or nullopt when the connection is gone or the answer is not a TMF response.
  std::optional<uint8_t> AbortTask(uint32_t ref_itt, uint32_t ref_cmd_sn) {
    Pdu p(Opcode::kTaskMgmtRequest);
    p.set_immediate(true);
    p.set_flags(kFinalBit | kTmfAbortTask);
    p.set_lun(EncodeLun(0));
    p.set_itt(itt_++);
    p.set_referenced_task_tag(ref_itt);
    p.set_cmd_sn(cmd_sn_);  // immediate: does not advance
    p.set_exp_stat_sn(exp_stat_sn_);
    p.set_ref_cmd_sn(ref_cmd_sn);
    if (!SendPdu(p)) return std::nullopt;
    auto r = RecvPdu();
    if (!r || r->raw_opcode() != static_cast<uint8_t>(Opcode::kTaskMgmtResponse)) {
      return std::nullopt;
    }
    exp_stat_sn_ = r->stat_sn() + 1;
    return r->response();
  }

  // A WRITE(10) of one block whose Expected Data Transfer Length says `edtl`, without data.
  // Returns the SCSI status and sense key of the answer, or nullopt when the connection is gone
  // or the answer is not a SCSI Response.
  std::optional<std::pair<uint8_t, uint8_t>> WriteAnnouncing(uint32_t edtl) {
    const uint32_t itt = itt_;
    Pdu p = Command(true, edtl);
    auto cdb = p.mutable_cdb();
    cdb[0] = 0x2a;
    cdb[8] = 1;
    if (!SendPdu(p)) return std::nullopt;
    for (;;) {
      auto r = RecvPdu();
      if (!r) return std::nullopt;
      const auto op = static_cast<Opcode>(r->raw_opcode());
      if (op == Opcode::kNopIn || op == Opcode::kAsyncMessage) continue;
      if (op != Opcode::kScsiResponse || r->itt() != itt) return std::nullopt;
      exp_stat_sn_ = r->stat_sn() + 1;
      auto sense = r->data();  // 2-byte SenseLength, then fixed-format sense
      return std::make_pair(r->scsi_status(),
                            sense.size() > 4 ? static_cast<uint8_t>(sense[4] & 0x0f) : uint8_t{0});
    }
  }

  // The ITT and CmdSN the next command will carry.
  uint32_t next_itt() const { return itt_; }
  uint32_t next_cmd_sn() const { return cmd_sn_; }

 private:
  // A SCSI Command PDU to LUN 0 with the next ITT and CmdSN; the caller fills the CDB.
  Pdu Command(bool write, uint32_t edtl) {
    Pdu p(Opcode::kScsiCommand);
    p.set_flags(kFinalBit | (write ? kCmdWriteBit : kCmdReadBit) | 1 /* simple */);
    p.set_lun(EncodeLun(0));
    p.set_itt(itt_++);
    p.set_edtl(edtl);
    p.set_cmd_sn(cmd_sn_++);
    p.set_exp_stat_sn(exp_stat_sn_);
    return p;
  }

  std::optional<uint8_t> IoOnce(bool write, uint32_t lba, std::vector<uint8_t>* data) {
    const auto len = static_cast<uint32_t>(data->size());
    const uint32_t itt = itt_;
    Pdu p = Command(write, len);
    auto cdb = p.mutable_cdb();
    cdb[0] = write ? 0x2a : 0x28;
    cdb[2] = static_cast<uint8_t>(lba >> 24);
    cdb[3] = static_cast<uint8_t>(lba >> 16);
    cdb[4] = static_cast<uint8_t>(lba >> 8);
    cdb[5] = static_cast<uint8_t>(lba);
    const uint32_t blocks = len / kBlock;
    cdb[7] = static_cast<uint8_t>(blocks >> 8);
    cdb[8] = static_cast<uint8_t>(blocks);
    if (write) p.set_data(*data);  // all of it immediate: len <= FirstBurstLength
    if (!SendPdu(p)) return std::nullopt;
    for (;;) {
      auto r = RecvPdu();
      if (!r) return std::nullopt;
      const auto op = static_cast<Opcode>(r->raw_opcode());
      if (op == Opcode::kDataIn && r->itt() == itt) {
        auto in = r->data();
        if (r->buffer_offset() + in.size() > data->size()) return 0xff;
        std::copy(in.begin(), in.end(), data->begin() + r->buffer_offset());
        if (r->status_bit()) {
          exp_stat_sn_ = r->stat_sn() + 1;
          return r->scsi_status();
        }
      } else if (op == Opcode::kScsiResponse && r->itt() == itt) {
        exp_stat_sn_ = r->stat_sn() + 1;
        return r->response() == kScsiRespCompleted ? r->scsi_status() : 0xff;
      } else if (op == Opcode::kNopIn || op == Opcode::kAsyncMessage) {
        continue;  // nothing asked of us at ERL 0 in this test
      } else {
        return 0xff;  // R2T, Reject...: not what this initiator negotiated
      }
    }
  }

  bool SendPdu(const Pdu& p) {
    std::vector<uint8_t> out;
    EncodeTo(p, digests_, &out);
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = ::send(fd_, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  bool RecvAll(uint8_t* buf, size_t n) {
    size_t off = 0;
    while (off < n) {
      ssize_t r = ::recv(fd_, buf + off, n - off, 0);
      if (r <= 0) return false;
      off += static_cast<size_t>(r);
    }
    return true;
  }

  // One PDU, framed here and checked (digests included) by a PduParser. nullopt when the
  // connection is gone or a digest does not match.
  std::optional<Pdu> RecvPdu() {
    std::vector<uint8_t> wire(kBhsLength);
    if (!RecvAll(wire.data(), kBhsLength)) return std::nullopt;
    const uint32_t ahs = wire[4] * 4u;
    const uint32_t dlen = static_cast<uint32_t>(wire[5]) << 16 | wire[6] << 8 | wire[7];
    const size_t rest = ahs + (digests_.header ? kDigestLength : 0) + PaddedLength(dlen) +
                        (digests_.data && dlen > 0 ? kDigestLength : 0);
    wire.resize(kBhsLength + rest);
    if (rest > 0 && !RecvAll(wire.data() + kBhsLength, rest)) return std::nullopt;
    PduParser parser(ParserOptions{kMaxDataSegmentLength, digests_});
    std::vector<ReceivedPdu> out;
    auto used = parser.Feed(wire, &out);
    if (!used.ok() || out.size() != 1 || out[0].data_digest_error) {
      ++digest_errors_;
      return std::nullopt;
    }
    return std::move(out[0].pdu);
  }

  int fd_ = -1;
  bool want_digests_ = false;
  DigestConfig digests_;
  int digest_errors_ = 0;
  uint32_t itt_ = 1;
  uint32_t cmd_sn_ = 1;
  uint32_t exp_stat_sn_ = 0;
};

std::vector<uint8_t> Pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  return v;
}

TargetServer::Options TestOptions() {
  TargetServer::Options o;
  o.port = 0;
  o.io_threads = 2;
  o.target_prefix = kPrefix;
  return o;
}

volume::ExportAccess Access(const std::string& attachment) {
  volume::ExportAccess a;
  a.attachment_id = attachment;
  a.initiator = kInitiator;
  return a;
}

// Starts `server`, exports `dev` as "v1" to kInitiator and logs `ini` in to it.
void ExportAndLogIn(TargetServer& server, const std::shared_ptr<volume::BlockDevice>& dev,
                    Initiator& ini) {
  ASSERT_TRUE(dev);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(server.Export("v1", dev).ok());
  ASSERT_TRUE(server.Allow("v1", Access("a1")).ok());
  ASSERT_TRUE(ini.Connect(server.port()));
  auto login = ini.Login(server.TargetName("v1"), 1);
  ASSERT_TRUE(login && *login == 0);
}

TEST(TargetServerTest, ConcurrentSessionsReadBackTheirWritesWhileTheControlPlaneChangesExports) {
  TempVolume v1, v2;
  auto dev1 = v1.Open();
  auto dev2 = v2.Open();
  ASSERT_TRUE(dev1 && dev2);
  TargetServer server(TestOptions());
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(server.Export("v1", dev1).ok());
  ASSERT_TRUE(server.Allow("v1", Access("a1")).ok());

  constexpr int kClients = 4;
  constexpr int kRounds = 40;
  constexpr size_t kIo = 32 * 1024;
  std::atomic<bool> done{false};
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Initiator ini;
      if (!ini.Connect(server.port())) {
        failures[c] = "connect";
        return;
      }
      // One session per client (distinct ISIDs), spread over both reactors.
      auto login = ini.Login(server.TargetName("v1"), static_cast<uint8_t>(c));
      if (!login || *login != 0) {
        failures[c] = "login";
        return;
      }
      // Each client has its own 1 MiB region of v1.
      const uint32_t base = static_cast<uint32_t>(c) * (1u << 20) / kBlock;
      for (int i = 0; i < kRounds; ++i) {
        const uint32_t lba = base + static_cast<uint32_t>(i % 16) * (kIo / kBlock);
        auto data = Pattern(kIo, static_cast<uint32_t>(c * 1000 + i));
        auto w = data;
        auto ws = ini.Io(true, lba, &w);
        std::vector<uint8_t> back(kIo);
        auto rs = ws && *ws == 0 ? ini.Io(false, lba, &back) : std::nullopt;
        if (!ws || *ws != 0 || !rs || *rs != 0 || back != data) {
          failures[c] = "round " + std::to_string(i) + ": write " +
                        (ws ? std::to_string(*ws) : "dropped") + ", read " +
                        (rs ? std::to_string(*rs) : "dropped") +
                        (back == data ? "" : ", data differs");
          return;
        }
      }
    });
  }
  // Meanwhile the control plane works on another export (sessions of v2 come and go) and
  // reports capacity changes on v1 (a unit attention for each v1 session).
  std::thread v2_client([&] {
    for (uint8_t n = 0; !done; ++n) {
      Initiator ini;
      if (!ini.Connect(server.port())) continue;
      auto login = ini.Login(server.TargetName("v2"), static_cast<uint8_t>(0x40 | (n & 0x3f)));
      if (!login || *login != 0) continue;  // not exported or not allowed at this instant
      std::vector<uint8_t> buf(4096);
      while (!done && ini.Io(false, 0, &buf)) {
      }
    }
  });
  std::thread control([&] {
    for (int i = 0; !done; ++i) {
      EXPECT_TRUE(server.Export("v2", dev2).ok());
      EXPECT_TRUE(server.Allow("v2", Access("a2")).ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      EXPECT_TRUE(server.Revoke("v2", "a2").ok());
      EXPECT_TRUE(server.Unexport("v2").ok());
      if (i % 8 == 0) server.CapacityChanged("v1");
    }
  });
  for (auto& t : clients) t.join();
  done = true;
  control.join();
  v2_client.join();
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(failures[c], "") << "client " << c;
  server.Stop();
}

TEST(TargetServerTest, UnexportWithIoInFlightEndsTheSessionsAndDrainsTheDevice) {
  TempVolume v;
  auto dev = v.Open();
  ASSERT_TRUE(dev);
  TargetServer server(TestOptions());
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(server.Export("v1", dev).ok());
  ASSERT_TRUE(server.Allow("v1", Access("a1")).ok());

  constexpr int kClients = 3;
  std::atomic<int> logged_in{0};
  std::atomic<int> ios{0};
  std::vector<int> ended(kClients, 0);  // 1: the target dropped the connection
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Initiator ini;
      if (!ini.Connect(server.port())) return;
      auto login = ini.Login(server.TargetName("v1"), static_cast<uint8_t>(c));
      if (!login || *login != 0) return;
      ++logged_in;
      auto data = Pattern(64 * 1024, static_cast<uint32_t>(c));
      for (uint32_t i = 0;; ++i) {
        auto st = ini.Io(i % 2 == 0, static_cast<uint32_t>(c) * 2048 + (i % 8) * 128, &data);
        if (!st) break;  // the target closed the connection
        if (*st != 0) return;
        ++ios;
      }
      ended[c] = 1;
    });
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((logged_in < kClients || ios < 30) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(logged_in.load(), kClients);
  EXPECT_GE(ios.load(), 30);
  ASSERT_TRUE(server.Unexport("v1").ok());
  for (auto& t : clients) t.join();  // each ends on the dropped connection (or its 10 s timeout)
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(ended[c], 1) << "client " << c;
  // The last reference to the device goes here, on the test thread, once the reactors let go.
  server.Stop();
  dev.reset();
}

// The Expected Data Transfer Length is the initiator's word: a write announcing 4 GiB must be
// refused in its turn, not sized into a buffer (the target allocated it whole before).
TEST(TargetServerTest, WriteAnnouncingMoreThanAnyCommandCarriesIsRefusedWithoutABuffer) {
  TargetServer server(TestOptions());
  auto dev = volume::NewMemoryBlockDevice(4u << 20);
  Initiator ini;
  ExportAndLogIn(server, dev, ini);
  std::vector<uint8_t> warm(kBlock);
  ASSERT_EQ(ini.Io(false, 0, &warm), 0);  // past the unit attention of a new session
  for (uint32_t edtl : {0xFFFFFFF0u, 64u << 20}) {
    auto answer = ini.WriteAnnouncing(edtl);
    ASSERT_TRUE(answer) << edtl;
    EXPECT_EQ(answer->first, 0x02) << edtl;   // CHECK CONDITION
    EXPECT_EQ(answer->second, 0x05) << edtl;  // ILLEGAL REQUEST
  }
  // The session goes on: the next command's CmdSN follows the refused ones.
  auto data = Pattern(2 * kBlock, 7);
  EXPECT_EQ(ini.Io(true, 2, &data), 0);
  std::vector<uint8_t> back(2 * kBlock);
  EXPECT_EQ(ini.Io(false, 2, &back), 0);
  EXPECT_EQ(back, data);
}

}  // namespace
// Regression (libiscsi iSCSITMF.AbortTaskSimpleAsync, flaky once writes completed inline): an
// ABORT TASK for a command that was received and already answered must say "Task does not
// exist", since the initiator gets that command's response too; "Function complete" is for a
// command the target has not received yet (RFC 7143 §11.6.1).
TEST(TargetServerTest, AbortTaskOfAnsweredCommandSaysTaskDoesNotExist) {
  TempVolume v;
  TargetServer server(TestOptions());
  Initiator ini;
  ASSERT_NO_FATAL_FAILURE(ExportAndLogIn(server, v.Open(), ini));

  auto data = Pattern(4096, 7);
  const uint32_t write_itt = ini.next_itt();
  ASSERT_EQ(ini.Io(true, 0, &data), std::optional<uint8_t>(0));
  const uint32_t write_cmd_sn = ini.next_cmd_sn() - 1;
  EXPECT_EQ(ini.AbortTask(write_itt, write_cmd_sn), std::optional<uint8_t>(kTmfRespNoTask));

  // A command the target has not seen (its CmdSN is the next one): complete.
  EXPECT_EQ(ini.AbortTask(0x7000, ini.next_cmd_sn()), std::optional<uint8_t>(kTmfRespComplete));

  // The session goes on.
  std::vector<uint8_t> back(4096);
  ASSERT_EQ(ini.Io(false, 0, &back), std::optional<uint8_t>(0));
  EXPECT_EQ(back, data);
  server.Stop();
}

// Header and data digests end to end: the Data-In payload is sent from the command's buffer
// (not copied into the send queue), so the data digest must still cover exactly those bytes,
// also when one READ becomes several Data-In PDUs (MaxRecvDataSegmentLength 256 KiB).
TEST(TargetServerTest, DigestsCoverDataInSentFromTheCommandBuffer) {
  TempVolume v;
  TargetServer server(TestOptions());
  Initiator ini;
  ini.set_digests(true);
  ASSERT_NO_FATAL_FAILURE(ExportAndLogIn(server, v.Open(), ini));

  std::vector<uint8_t> all;
  for (uint32_t i = 0; i < 4; ++i) {
    auto chunk = Pattern(256 * 1024 - (i == 3 ? 512 : 0), 11 + i);  // the last one shorter
    ASSERT_EQ(ini.Io(true, i * 512, &chunk), std::optional<uint8_t>(0));
    all.insert(all.end(), chunk.begin(), chunk.end());
  }
  std::vector<uint8_t> back(all.size());
  ASSERT_EQ(ini.Io(false, 0, &back), std::optional<uint8_t>(0));
  EXPECT_EQ(back, all);
  std::vector<uint8_t> small(4096);
  ASSERT_EQ(ini.Io(false, 512, &small), std::optional<uint8_t>(0));
  EXPECT_TRUE(std::equal(small.begin(), small.end(), all.begin() + 512 * 512));
  EXPECT_EQ(ini.digest_errors(), 0);
  server.Stop();
}

}  // namespace scoria::target
