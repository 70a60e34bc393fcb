// INQUIRY: standard data and the VPD pages 0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2 (SPC-4 6.6,
// 7.8; SBC-3 6.6). Identifiers derive only from UnitConfig::volume_id, so they are stable
// across restarts and identical on every target exporting the volume (multipath).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "target/scsi_cdb.h"
#include "target/scsi_unit.h"

namespace scoria::target::scsi {
namespace {

constexpr uint8_t kSupportedPages[] = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};

// Copies `s` into `dst`, space padded / truncated to `n`, printable ASCII only (SPC-4 4.4.1).
void PutAscii(uint8_t* dst, const std::string& s, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t c = i < s.size() ? uint8_t(s[i]) : ' ';
    dst[i] = (c >= 0x20 && c <= 0x7e) ? c : '_';
  }
}

// 100 bits (25 hex digits) of vendor-specific identifier for NAA 6: the uuid's own hex digits
// when volume_id is a uuid, otherwise a 128-bit FNV-1a of the string.
std::vector<uint8_t> IdentifierNibbles(const std::string& volume_id) {
  std::vector<uint8_t> nibbles;
  for (char c : volume_id) {
    if (std::isxdigit(uint8_t(c))) {
      nibbles.push_back(uint8_t(std::isdigit(uint8_t(c)) ? c - '0' : (std::tolower(c) - 'a' + 10)));
    } else if (c != '-') {
      nibbles.clear();
      break;
    }
  }
  if (nibbles.size() < 25) {
    nibbles.clear();
    uint64_t h1 = 0xcbf29ce484222325ULL, h2 = 0x84222325cbf29ce4ULL;
    for (char c : volume_id) {
      h1 = (h1 ^ uint8_t(c)) * 0x100000001b3ULL;
      h2 = (h2 ^ uint8_t(c)) * 0x100000001b3ULL + 1;
    }
    for (int i = 0; i < 16; ++i) nibbles.push_back(uint8_t(h1 >> (60 - 4 * i)) & 0xf);
    for (int i = 0; i < 16; ++i) nibbles.push_back(uint8_t(h2 >> (60 - 4 * i)) & 0xf);
  }
  nibbles.resize(25);
  return nibbles;
}

void AppendDesignator(std::vector<uint8_t>& out, uint8_t proto_codeset, uint8_t piv_assoc_type,
                      const uint8_t* data, size_t len) {
  out.push_back(proto_codeset);
  out.push_back(piv_assoc_type);
  out.push_back(0);
  out.push_back(uint8_t(len));
  out.insert(out.end(), data, data + len);
}

}  // namespace

void ScsiUnit::Inquiry(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const bool evpd = cmd.cdb[1] & 0x01;
  const uint8_t page = cmd.cdb[2];
  const uint16_t alloc = Load16(&cmd.cdb[3]);
  std::vector<uint8_t> out;
  if (!evpd) {
    if (page != 0) {  // SPC-4 6.6.1: PAGE CODE must be zero without EVPD
      done(InvalidFieldInCdb(2));
      return;
    }
    out.assign(96, 0);
    out[0] = 0x00;         // qualifier 0, direct-access block device
    out[1] = 0x00;         // RMB=0
    out[2] = 0x06;         // SPC-4
    out[3] = 0x10 | 0x02;  // HiSup, response data format 2
    out[4] = uint8_t(out.size() - 5);
    out[7] = 0x02;  // CmdQue: Linux enables tagged queueing from it
    PutAscii(&out[8], config_.vendor, 8);
    PutAscii(&out[16], config_.product, 16);
    PutAscii(&out[32], config_.revision, 4);
    // Version descriptors: iscsi-test-cu treats the LU as SBC-3 (and then requires READ
    // CAPACITY(16)/READ(16)) only when an SBC-3 descriptor is present.
    const uint16_t versions[] = {0x00a0 /*SAM-5*/, 0x0960 /*iSCSI*/, 0x0460 /*SPC-4*/,
                                 0x04c0 /*SBC-3*/};
    for (size_t i = 0; i < std::size(versions); ++i) Store16(&out[58 + 2 * i], versions[i]);
  } else {
    out.assign(4, 0);
    out[1] = page;
    switch (page) {
      case 0x00:
        out.insert(out.end(), std::begin(kSupportedPages), std::end(kSupportedPages));
        break;
      case 0x80: {
        const std::string serial = config_.volume_id.empty() ? "0" : config_.volume_id;
        const size_t n = std::min<size_t>(serial.size(), 251);
        out.resize(4 + n);
        PutAscii(&out[4], serial, n);
        break;
      }
      case 0x83: {
        // NAA 6 IEEE Registered Extended: company id + 100 bits from the volume id.
        const std::vector<uint8_t> nib = IdentifierNibbles(config_.volume_id);
        uint8_t naa[16] = {};
        const uint32_t oui = config_.ieee_company_id & 0xffffff;
        // Nibble stream: 6, OUI (6 nibbles), then 25 vendor nibbles = 32 nibbles.
        uint8_t all[32];
        all[0] = 0x6;
        for (int i = 0; i < 6; ++i) all[1 + i] = uint8_t(oui >> (20 - 4 * i)) & 0xf;
        for (int i = 0; i < 25; ++i) all[7 + i] = nib[i];
        for (int i = 0; i < 16; ++i) naa[i] = uint8_t(all[2 * i] << 4 | all[2 * i + 1]);
        AppendDesignator(out, 0x01 /*binary*/, 0x03 /*LU, NAA*/, naa, sizeof naa);
        // T10 vendor ID: vendor (8, padded) + volume id.
        std::string t10(8, ' ');
        PutAscii(reinterpret_cast<uint8_t*>(t10.data()), config_.vendor, 8);
        t10 += config_.volume_id.empty() ? "0" : config_.volume_id;
        if (t10.size() > 200) t10.resize(200);
        AppendDesignator(out, 0x02 /*ascii*/, 0x01 /*LU, T10*/,
                         reinterpret_cast<const uint8_t*>(t10.data()), t10.size());
        // Relative target port 1 (iSCSI, target port association).
        const uint8_t rtp[4] = {0, 0, 0, 1};
        AppendDesignator(out, 0x51 /*iSCSI, binary*/, 0x94 /*PIV, port, RTPI*/, rtp, 4);
        break;
      }
      case 0xb0: {
        out.resize(64, 0);
        const uint32_t gran = std::max<uint32_t>(1, 4096 / block_size_);
        out[5] = kMaxCompareAndWriteBlocks;
        Store16(&out[6], uint16_t(1u << (config_.physical_block_exponent & 0x0f)));
        Store32(&out[8], max_transfer_blocks_);
        Store32(&out[12], max_transfer_blocks_);
        Store32(&out[16], max_transfer_blocks_);
        Store32(&out[20], kMaxUnmapBlocks);
        Store32(&out[24], kMaxUnmapDescriptors);
        Store32(&out[28], gran);
        Store32(&out[32], 0x80000000u);  // UGAVALID, alignment 0
        Store64(&out[36], kMaxWriteSameBlocks);
        break;
      }
      case 0xb1:
        out.resize(64, 0);
        Store16(&out[4], 0x0001);  // non-rotating medium
        break;
      case 0xb2:
        out.resize(8, 0);
        out[5] = 0x80 | 0x40 | 0x20 | 0x04;  // LBPU, LBPWS, LBPWS10, LBPRZ
        out[6] = 0x02;                       // thin provisioned
        break;
      default:
        done(InvalidFieldInCdb(2));
        return;
    }
    Store16(&out[2], uint16_t(out.size() - 4));
  }
  ScsiResult r;
  SetDataInTruncated(r, out.data(), out.size(), alloc);
  done(std::move(r));
}

}  // namespace scoria::target::scsi
