// MODE SENSE(6/10) and MODE SELECT(6/10) (SPC-4 6.11-6.14, SBC-3 6.4). Pages: caching 0x08
// (WCE changeable), control 0x0A (SWP changeable; D_SENSE 0: fixed-format sense only),
// informational exceptions 0x1C (nothing changeable). Saved values are not supported.
#include <cstring>
#include <vector>

#include "target/scsi_cdb.h"
#include "target/scsi_unit.h"

namespace scoria::target::scsi {
namespace {

constexpr uint8_t kPcCurrent = 0, kPcChangeable = 1, kPcDefault = 2, kPcSaved = 3;
constexpr uint8_t kPages[] = {0x08, 0x0a, 0x1c};

struct ModeState {
  bool wce;
  bool swp;
};

// Appends page `code` for page control `pc`; false when the page is unknown.
bool AppendPage(std::vector<uint8_t>& out, uint8_t code, uint8_t pc, ModeState cur,
                ModeState def) {
  const ModeState s = pc == kPcDefault ? def : cur;
  switch (code) {
    case 0x08: {  // caching (SBC-3 6.4.5)
      uint8_t p[20] = {0x08, 0x12};
      if (pc == kPcChangeable) {
        p[2] = 0x04;
      } else {
        p[2] = s.wce ? 0x04 : 0x00;  // WCE; RCD=0 (read cache enabled)
      }
      out.insert(out.end(), p, p + sizeof p);
      return true;
    }
    case 0x0a: {  // control (SPC-4 7.5.8)
      uint8_t p[12] = {0x0a, 0x0a};
      if (pc == kPcChangeable) {
        p[4] = 0x08;
      } else {
        p[3] = 0x10;                 // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering
        p[4] = s.swp ? 0x08 : 0x00;  // SWP
        Store16(&p[8], 0xffff);      // BUSY TIMEOUT PERIOD: unlimited
      }
      out.insert(out.end(), p, p + sizeof p);
      return true;
    }
    case 0x1c: {  // informational exceptions control (SPC-4 7.5.11): all reporting off
      uint8_t p[12] = {0x1c, 0x0a};
      out.insert(out.end(), p, p + sizeof p);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

void ScsiUnit::ModeSense(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const bool ten = cmd.cdb[0] == op::kModeSense10;
  const bool dbd = cmd.cdb[1] & 0x08;
  const bool llbaa = ten && (cmd.cdb[1] & 0x10);
  const uint8_t pc = cmd.cdb[2] >> 6;
  const uint8_t page = cmd.cdb[2] & 0x3f;
  const uint8_t subpage = cmd.cdb[3];
  const uint32_t alloc = ten ? Load16(&cmd.cdb[7]) : cmd.cdb[4];
  if (pc == kPcSaved) {
    done(CheckCondition(kSavingNotSupported));
    return;
  }
  // Subpage 0, or 0xFF with page 0x3F (all pages and subpages: we have no subpages).
  if (subpage != 0 && !(subpage == 0xff && page == 0x3f)) {
    done(InvalidFieldInCdb(3));
    return;
  }
  const ModeState cur{WriteCacheEnabled(), swp_.load(std::memory_order_relaxed)};
  const ModeState def{config_.write_cache_enabled, false};

  std::vector<uint8_t> pages;
  if (page == 0x3f) {
    for (uint8_t p : kPages) AppendPage(pages, p, pc, cur, def);
  } else if (!AppendPage(pages, page, pc, cur, def)) {
    done(InvalidFieldInCdb(2, 5));
    return;
  }

  const uint64_t blocks = BlockCount();
  std::vector<uint8_t> bd;
  if (!dbd) {
    const bool changeable = pc == kPcChangeable;
    if (llbaa) {
      bd.assign(16, 0);
      if (!changeable) {
        Store64(&bd[0], blocks);
        Store32(&bd[12], block_size_);
      }
    } else {
      bd.assign(8, 0);
      if (!changeable) {
        Store32(&bd[0], blocks > 0xffffffffULL ? 0xffffffffu : uint32_t(blocks));
        bd[5] = uint8_t(block_size_ >> 16);
        bd[6] = uint8_t(block_size_ >> 8);
        bd[7] = uint8_t(block_size_);
      }
    }
  }
  // Device-specific parameter (SBC-3 6.4.2): WP, DPOFUA (DPO and FUA are honoured).
  const uint8_t dsp = uint8_t((pc != kPcChangeable && WriteProtected() ? 0x80 : 0) |
                              (pc != kPcChangeable ? 0x10 : 0));
  std::vector<uint8_t> out;
  if (ten) {
    out.assign(8, 0);
    out[3] = dsp;
    out[4] = llbaa && !bd.empty() ? 0x01 : 0x00;  // LONGLBA
    Store16(&out[6], uint16_t(bd.size()));
  } else {
    out.assign(4, 0);
    out[2] = dsp;
    out[3] = uint8_t(bd.size());
  }
  out.insert(out.end(), bd.begin(), bd.end());
  out.insert(out.end(), pages.begin(), pages.end());
  if (ten) {
    Store16(&out[0], uint16_t(out.size() - 2));
  } else {
    out[0] = uint8_t(out.size() - 1);
  }
  ScsiResult r;
  SetDataInTruncated(r, out.data(), out.size(), alloc);
  done(std::move(r));
}

void ScsiUnit::ModeSelect(const Nexus& nexus, ScsiCommand& cmd, ScsiCallback& done) {
  const bool ten = cmd.cdb[0] == op::kModeSelect10;
  if (cmd.cdb[1] & 0x01) {  // SP: we cannot save pages
    done(InvalidFieldInCdb(1, 0));
    return;
  }
  const uint32_t len = ten ? Load16(&cmd.cdb[7]) : cmd.cdb[4];
  if (len == 0) {
    done(ScsiResult{});
    return;
  }
  const size_t hdr = ten ? 8 : 4;
  if (cmd.data_out.size() < len || len < hdr) {
    done(CheckCondition(kParamListLengthError));
    return;
  }
  const auto* d = reinterpret_cast<const uint8_t*>(cmd.data_out.data());
  const size_t bdl = ten ? Load16(&d[6]) : d[3];
  if (hdr + bdl > len) {
    done(CheckCondition(kParamListLengthError));
    return;
  }
  if (bdl != 0) {
    const bool longlba = ten && (d[4] & 0x01);
    if (bdl != (longlba ? 16u : 8u)) {
      done(InvalidFieldInParameterList(ten ? 6 : 3));
      return;
    }
    const uint32_t bl = longlba ? Load32(&d[hdr + 12]) : Load24(&d[hdr + 5]);
    if (bl != block_size_) {
      done(InvalidFieldInParameterList(uint16_t(hdr + (longlba ? 12 : 5))));
      return;
    }
  }
  ModeState cur{WriteCacheEnabled(), swp_.load(std::memory_order_relaxed)};
  const ModeState def{config_.write_cache_enabled, false};
  ModeState next = cur;
  size_t pos = hdr + bdl;
  while (pos < len) {
    if (pos + 2 > len) {
      done(CheckCondition(kParamListLengthError));
      return;
    }
    const uint8_t code = d[pos] & 0x3f;
    if (d[pos] & 0x40) {  // SPF: no subpages
      done(InvalidFieldInParameterList(uint16_t(pos), 6));
      return;
    }
    std::vector<uint8_t> current, changeable;
    if (!AppendPage(current, code, kPcCurrent, cur, def) ||
        !AppendPage(changeable, code, kPcChangeable, cur, def)) {
      done(InvalidFieldInParameterList(uint16_t(pos)));
      return;
    }
    if (d[pos + 1] + 2u != current.size()) {
      done(InvalidFieldInParameterList(uint16_t(pos + 1)));
      return;
    }
    if (pos + current.size() > len) {
      done(CheckCondition(kParamListLengthError));
      return;
    }
    for (size_t i = 2; i < current.size(); ++i) {
      const uint8_t diff = uint8_t((d[pos + i] ^ current[i]) & ~changeable[i]);
      if (diff) {
        int bit = 7;
        while (!(diff & (1u << bit))) --bit;
        done(InvalidFieldInParameterList(uint16_t(pos + i), bit));
        return;
      }
    }
    if (code == 0x08) next.wce = d[pos + 2] & 0x04;
    if (code == 0x0a) next.swp = d[pos + 4] & 0x08;
    pos += current.size();
  }
  if (next.wce != cur.wce || next.swp != cur.swp) {
    wce_.store(next.wce, std::memory_order_relaxed);
    swp_.store(next.swp, std::memory_order_relaxed);
    std::lock_guard lock(mu_);
    QueueUaLocked(nexus.id, kModeParametersChanged);  // SPC-4 7.5.2
  }
  done(ScsiResult{});
}

}  // namespace scoria::target::scsi
