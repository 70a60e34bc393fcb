// Media access (SBC-3 5.x): READ/WRITE(6/10/12/16), WRITE AND VERIFY, VERIFY, COMPARE AND
// WRITE, WRITE SAME, UNMAP, GET LBA STATUS, PRE-FETCH, SYNCHRONIZE CACHE.
//
// Hot path (READ/WRITE): decode with big-endian loads, validate, take a pooled IoContext,
// issue one BlockDevice call whose callback captures only the context pointer (fits
// std::function's inline storage), so the only allocation is the data buffer. Writers pass the
// write gate (shared; COMPARE AND WRITE takes it exclusively) before their I/O.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "target/scsi_cdb.h"
#include "target/scsi_unit.h"

namespace scoria::target::scsi {

struct IoContext {
  ScsiUnit* unit = nullptr;
  ScsiCallback done;
  ScsiResult result;
  std::vector<std::byte> data;  // Data-Out payload (writes, compare data)
  uint64_t offset = 0;
  uint32_t length = 0;          // bytes of the media operation
  bool fua = false;
  bool gated = false;           // holds the write gate (shared unless `exclusive`)
  bool exclusive = false;
  bool was_write = false;
  // What to do when the current device operation completes.
  void (ScsiUnit::*next)(IoContext*, const Status&) = nullptr;
};

namespace {

struct LbaLen {
  uint64_t lba;
  uint32_t len;
  uint8_t len_byte;  // CDB offset of TRANSFER LENGTH (for the sense field pointer)
};

LbaLen DecodeLbaLen(const uint8_t* cdb) {
  switch (CdbLengthForOpcode(cdb[0])) {
    case 6: {
      // READ(6)/WRITE(6): 21-bit LBA, length 0 means 256 blocks (SBC-3 5.7).
      const uint32_t len = cdb[4] ? cdb[4] : 256;
      return {Load24(&cdb[1]) & 0x1fffff, len, 4};
    }
    case 10:
      return {Load32(&cdb[2]), Load16(&cdb[7]), 7};
    case 12:
      return {Load32(&cdb[2]), Load32(&cdb[6]), 6};
    default:
      return {Load64(&cdb[2]), Load32(&cdb[10]), 10};
  }
}

void IoDone(IoContext* ctx, const Status& st) { (ctx->unit->*(ctx->next))(ctx, st); }

}  // namespace

void ScsiUnit::DeleteContext(IoContext* ctx) { delete ctx; }

IoContext* ScsiUnit::AcquireContext() {
  IoContext* ctx = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!free_contexts_.empty()) {
      ctx = free_contexts_.back();
      free_contexts_.pop_back();
    }
  }
  if (!ctx) ctx = new IoContext;
  ctx->unit = this;
  ctx->result = ScsiResult{};
  ctx->fua = ctx->gated = ctx->exclusive = ctx->was_write = false;
  ctx->next = &ScsiUnit::FinishIo;
  return ctx;
}

bool ScsiUnit::CheckRange(uint64_t lba, uint64_t count, ScsiResult* out) const {
  const uint64_t blocks = BlockCount();
  if (lba > blocks || count > blocks - lba) {
    *out = CheckCondition(kLbaOutOfRange);
    return false;
  }
  return true;
}

bool ScsiUnit::EnterGateOrQueue(bool exclusive, std::function<void()>& run) {
  std::lock_guard lock(mu_);
  if (!caw_active_ && gate_waiters_.empty()) {
    if (!exclusive) {
      ++writes_in_flight_;
      return true;
    }
    if (writes_in_flight_ == 0) {
      caw_active_ = true;
      return true;
    }
  }
  gate_waiters_.push_back(GateWaiter{exclusive, std::move(run)});
  return false;
}

void ScsiUnit::LeaveGate(bool exclusive) {
  std::vector<std::function<void()>> runnable;
  {
    std::lock_guard lock(mu_);
    if (exclusive) {
      caw_active_ = false;
    } else {
      --writes_in_flight_;
    }
    // Admit waiters in arrival order: shared ones while no CAW holds the gate, a CAW once
    // every earlier writer has drained.
    while (!gate_waiters_.empty() && !caw_active_) {
      GateWaiter& w = gate_waiters_.front();
      if (w.exclusive) {
        if (writes_in_flight_ != 0) break;
        caw_active_ = true;
      } else {
        ++writes_in_flight_;
      }
      runnable.push_back(std::move(w.run));
      gate_waiters_.pop_front();
    }
  }
  for (auto& r : runnable) r();
}

// Completes the command: maps a device error to sense, releases the gate and the context,
// then calls back (no lock held).
void ScsiUnit::FinishIo(IoContext* ctx, const Status& st) {
  if (!st.ok()) {
    ctx->result = CheckCondition(SenseForIoError(st.code(), ctx->was_write));
  }
  ScsiCallback done = std::move(ctx->done);
  ScsiResult result = std::move(ctx->result);
  const bool gated = ctx->gated, exclusive = ctx->exclusive;
  ctx->data.clear();
  ctx->data.shrink_to_fit();
  {
    std::lock_guard lock(mu_);
    if (free_contexts_.size() < 256) {
      free_contexts_.push_back(ctx);
      ctx = nullptr;
    }
  }
  delete ctx;
  if (gated) LeaveGate(exclusive);
  done(std::move(result));
}

void ScsiUnit::StartWrite(IoContext* ctx) {
  ctx->was_write = true;
  device_->Write(ctx->offset, std::span<const std::byte>(ctx->data.data(), ctx->length),
                 ctx->fua, [ctx](Status st) { IoDone(ctx, st); });
}

void ScsiUnit::Read(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const LbaLen d = DecodeLbaLen(cmd.cdb);
  ScsiResult err;
  if (!CheckRange(d.lba, d.len, &err)) return done(std::move(err));
  if (d.len > max_transfer_blocks_) return done(InvalidFieldInCdb(d.len_byte));
  if (d.len == 0) return done(ScsiResult{});
  IoContext* ctx = AcquireContext();
  ctx->done = std::move(done);
  ctx->result.data_in.Allocate(size_t(d.len) * block_size_);
  device_->Read(d.lba * block_size_, ctx->result.data_in, [ctx](Status st) { IoDone(ctx, st); });
}

namespace {
// Shared by WRITE and WRITE AND VERIFY: the whole blocks of Data-Out the CDB covers (see the
// Data-Out note in logical_unit.h).
uint32_t WritableBytes(const ScsiCommand& cmd, uint32_t blocks, uint32_t block_size) {
  const uint64_t want = uint64_t(blocks) * block_size;
  const uint64_t have = cmd.data_out.size() / block_size * block_size;
  return uint32_t(std::min(want, have));
}
}  // namespace

void ScsiUnit::Write(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const LbaLen d = DecodeLbaLen(cmd.cdb);
  ScsiResult err;
  if (!CheckRange(d.lba, d.len, &err)) return done(std::move(err));
  if (d.len > max_transfer_blocks_) return done(InvalidFieldInCdb(d.len_byte));
  const uint32_t bytes = WritableBytes(cmd, d.len, block_size_);
  if (bytes == 0) return done(ScsiResult{});
  IoContext* ctx = AcquireContext();
  ctx->done = std::move(done);
  ctx->data = std::move(cmd.data_out);
  ctx->offset = d.lba * block_size_;
  ctx->length = bytes;
  // FUA (not in WRITE(6)), or every write when the initiator turned the write cache off.
  const bool fua_bit = CdbLengthForOpcode(cmd.cdb[0]) != 6 && (cmd.cdb[1] & 0x08);
  ctx->fua = fua_bit || !WriteCacheEnabled() || cmd.cdb[0] == op::kWriteVerify10 ||
             cmd.cdb[0] == op::kWriteVerify12 || cmd.cdb[0] == op::kWriteVerify16;
  ctx->gated = true;
  std::function<void()> later = [this, ctx] { StartWrite(ctx); };
  if (EnterGateOrQueue(false, later)) StartWrite(ctx);
}

void ScsiUnit::WriteVerify(const Nexus& nexus, ScsiCommand& cmd, ScsiCallback& done) {
  // The data is written with FUA: once the device acknowledges it, it is on the medium, which
  // is what the verification would establish.
  Write(nexus, cmd, done);
}

void ScsiUnit::Verify(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const LbaLen d = DecodeLbaLen(cmd.cdb);
  const uint8_t bytchk = (cmd.cdb[1] >> 1) & 0x03;
  if (bytchk > 1) return done(InvalidFieldInCdb(1, 2));
  ScsiResult err;
  if (!CheckRange(d.lba, d.len, &err)) return done(std::move(err));
  if (d.len > max_transfer_blocks_) return done(InvalidFieldInCdb(d.len_byte));
  if (d.len == 0) return done(ScsiResult{});
  IoContext* ctx = AcquireContext();
  ctx->done = std::move(done);
  ctx->length = d.len * block_size_;
  if (bytchk) {
    ctx->data = std::move(cmd.data_out);
    ctx->data.resize(std::min<size_t>(ctx->data.size(), ctx->length));
  }
  ctx->result.data_in.Allocate(ctx->length);
  ctx->next = &ScsiUnit::VerifyRead;
  device_->Read(d.lba * block_size_, ctx->result.data_in, [ctx](Status st) { IoDone(ctx, st); });
}

void ScsiUnit::VerifyRead(IoContext* ctx, const Status& st) {
  if (st.ok()) {
    DataBuffer medium = std::move(ctx->result.data_in);
    ctx->result = ScsiResult{};
    const size_t n = ctx->data.size();
    if (n && std::memcmp(medium.data(), ctx->data.data(), n) != 0) {
      size_t i = 0;
      while (medium[i] == ctx->data[i]) ++i;
      ctx->result = CheckCondition(kMiscompareDuringVerify);
      SetSenseInformation(ctx->result.sense, uint32_t(i));  // offset in the Data-Out buffer
    }
  }
  FinishIo(ctx, st);
}

void ScsiUnit::CompareAndWrite(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const uint64_t lba = Load64(&cmd.cdb[2]);
  const uint32_t nb = cmd.cdb[13];
  // Data-Out must hold exactly the verify and the write data (SBC-3 5.2): anything else is an
  // initiator error (libiscsi CompareAndWrite.InvalidDataOutSize).
  if (cmd.data_out.size() != size_t(2) * nb * block_size_) return done(InvalidFieldInCdb(13));
  ScsiResult err;
  if (!CheckRange(lba, nb, &err)) return done(std::move(err));
  if (nb == 0) return done(ScsiResult{});
  IoContext* ctx = AcquireContext();
  ctx->done = std::move(done);
  ctx->data = std::move(cmd.data_out);
  ctx->offset = lba * block_size_;
  ctx->length = nb * block_size_;
  ctx->fua = (cmd.cdb[1] & 0x08) || !WriteCacheEnabled();
  ctx->gated = true;
  ctx->exclusive = true;
  ctx->next = &ScsiUnit::CompareAndWriteRead;
  auto start = [this, ctx] {
    ctx->result.data_in.Allocate(ctx->length);
    device_->Read(ctx->offset, ctx->result.data_in, [ctx](Status st) { IoDone(ctx, st); });
  };
  std::function<void()> later = start;
  if (EnterGateOrQueue(true, later)) start();
}

void ScsiUnit::CompareAndWriteRead(IoContext* ctx, const Status& st) {
  if (!st.ok()) return FinishIo(ctx, st);
  DataBuffer medium = std::move(ctx->result.data_in);
  ctx->result = ScsiResult{};
  if (std::memcmp(medium.data(), ctx->data.data(), ctx->length) != 0) {
    size_t i = 0;
    while (medium[i] == ctx->data[i]) ++i;
    ctx->result = CheckCondition(kMiscompareDuringVerify);
    SetSenseInformation(ctx->result.sense, uint32_t(i));  // SBC-3 5.2: offset of the mismatch
    return FinishIo(ctx, Status::Ok());
  }
  // Write the second half: shift it to the front so StartWrite can use data[0..length).
  std::memmove(ctx->data.data(), ctx->data.data() + ctx->length, ctx->length);
  ctx->next = &ScsiUnit::FinishIo;
  StartWrite(ctx);
}

namespace {
// Fan-out of several device operations completing one command.
struct MultiOp {
  std::atomic<int> remaining{0};
  std::atomic<int> error{0};  // StatusCode of the first failure + 1
  std::vector<std::byte> pattern;
};
}  // namespace

void ScsiUnit::WriteSame(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const bool sixteen = cmd.cdb[0] == op::kWriteSame16;
  const uint64_t lba = sixteen ? Load64(&cmd.cdb[2]) : Load32(&cmd.cdb[2]);
  uint64_t nb = sixteen ? Load32(&cmd.cdb[10]) : Load16(&cmd.cdb[7]);
  const bool unmap = cmd.cdb[1] & 0x08;
  const bool ndob = sixteen && (cmd.cdb[1] & 0x01);
  const uint64_t blocks = BlockCount();
  if (lba > blocks) return done(CheckCondition(kLbaOutOfRange));
  if (nb == 0) nb = blocks - lba;  // WSNZ=0: zero means "to the last LBA" (SBC-3 5.42)
  if (nb > kMaxWriteSameBlocks) return done(InvalidFieldInCdb(sixteen ? 10 : 7));
  ScsiResult err;
  if (!CheckRange(lba, nb, &err)) return done(std::move(err));
  if (!ndob && cmd.data_out.size() != block_size_) return done(InvalidFieldInCdb(sixteen ? 10 : 7));
  if (nb == 0) return done(ScsiResult{});
  // UNMAP=1 deallocates whatever the Data-Out block holds: with LBPRZ=1 the range then reads
  // back as zeroes. This is what LIO does (sbc_execute_write_same_unmap never looks at the
  // data) and what libiscsi's WriteSame10.UnmapUntilEnd expects: it sends a block of 0xFF with
  // UNMAP set and reads zeroes back.
  bool zero = ndob || unmap;
  if (!zero) {
    zero = std::all_of(cmd.data_out.begin(), cmd.data_out.end(),
                       [](std::byte b) { return b == std::byte{0}; });
  }
  IoContext* ctx = AcquireContext();
  ctx->done = std::move(done);
  ctx->gated = true;
  ctx->was_write = true;
  const uint64_t offset = lba * block_size_, length = nb * block_size_;
  auto op = std::make_shared<MultiOp>();
  if (!zero) {
    // A pattern buffer of up to 4 MiB written at every chunk offset concurrently.
    const uint64_t chunk_blocks = std::min<uint64_t>(nb, std::max<uint32_t>(1, (4u << 20) / block_size_));
    op->pattern.resize(chunk_blocks * block_size_);
    for (uint64_t i = 0; i < chunk_blocks; ++i)
      std::memcpy(op->pattern.data() + i * block_size_, cmd.data_out.data(), block_size_);
  }
  const bool fua = !WriteCacheEnabled();
  auto start = [this, ctx, op, offset, length, zero, unmap, fua] {
    if (zero) {
      // LBPRZ=1: unmapped blocks read as zeroes, so an unmap and a write of zeroes are the
      // same request to the device; `unmap` only decides whether space is released.
      device_->WriteZeroes(offset, length, unmap, [ctx](Status st) { ctx->unit->FinishIo(ctx, st); });
      return;
    }
    const uint64_t chunk = op->pattern.size();
    const int n = int((length + chunk - 1) / chunk);
    op->remaining.store(n);
    for (int i = 0; i < n; ++i) {
      const uint64_t off = uint64_t(i) * chunk;
      const uint64_t len = std::min(chunk, length - off);
      device_->Write(offset + off, std::span<const std::byte>(op->pattern.data(), len), fua,
                     [ctx, op](Status st) {
                       if (!st.ok()) {
                         int expected = 0;
                         op->error.compare_exchange_strong(expected, int(st.code()) + 1);
                       }
                       if (op->remaining.fetch_sub(1) == 1) {
                         const int e = op->error.load();
                         ctx->unit->FinishIo(ctx, e ? Status(StatusCode(e - 1), "write same")
                                                    : Status::Ok());
                       }
                     });
    }
  };
  std::function<void()> later = start;
  if (EnterGateOrQueue(false, later)) start();
}

void ScsiUnit::Unmap(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const uint32_t len = Load16(&cmd.cdb[7]);
  if (len == 0) return done(ScsiResult{});  // SBC-3 5.28: not an error
  if (len < 8 || cmd.data_out.size() < 8) return done(CheckCondition(kParamListLengthError));
  const auto* d = reinterpret_cast<const uint8_t*>(cmd.data_out.data());
  const size_t avail = std::min<size_t>(len, cmd.data_out.size());
  const size_t bdl = std::min<size_t>(Load16(&d[2]), avail - 8);
  const size_t count = bdl / 16;  // a truncated last descriptor is ignored
  if (count > kMaxUnmapDescriptors) return done(InvalidFieldInParameterList(2));
  uint64_t total = 0;
  const uint64_t blocks = BlockCount();
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* bd = d + 8 + 16 * i;
    const uint64_t lba = Load64(bd);
    const uint32_t n = Load32(bd + 8);
    if (lba > blocks || n > blocks - lba) return done(CheckCondition(kLbaOutOfRange));
    total += n;
  }
  if (total > kMaxUnmapBlocks) return done(InvalidFieldInParameterList(8 + 8));
  if (total == 0) return done(ScsiResult{});
  IoContext* ctx = AcquireContext();
  ctx->done = std::move(done);
  ctx->gated = true;
  ctx->was_write = true;
  ctx->data = std::move(cmd.data_out);
  auto start = [this, ctx, count] {
    // Copy the ranges out first: a device may complete inline, and the last completion
    // releases ctx (and the parameter list with it) while this loop would still read it.
    std::vector<std::pair<uint64_t, uint32_t>> ranges;
    const auto* p = reinterpret_cast<const uint8_t*>(ctx->data.data()) + 8;
    for (size_t i = 0; i < count; ++i) {
      const uint32_t blocks = Load32(p + 16 * i + 8);
      if (blocks) ranges.emplace_back(Load64(p + 16 * i), blocks);
    }
    auto op = std::make_shared<MultiOp>();
    op->remaining.store(static_cast<int>(ranges.size()));
    for (const auto& [lba, blocks] : ranges) {
      device_->Discard(lba * block_size_, uint64_t(blocks) * block_size_, [ctx, op](Status st) {
        if (!st.ok()) {
          int expected = 0;
          op->error.compare_exchange_strong(expected, int(st.code()) + 1);
        }
        if (op->remaining.fetch_sub(1) == 1) {
          const int e = op->error.load();
          ctx->unit->FinishIo(ctx, e ? Status(StatusCode(e - 1), "unmap") : Status::Ok());
        }
      });
    }
  };
  std::function<void()> later = start;
  if (EnterGateOrQueue(false, later)) start();
}

void ScsiUnit::GetLbaStatus(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const uint64_t lba = Load64(&cmd.cdb[2]);
  const uint32_t alloc = Load32(&cmd.cdb[10]);
  const uint64_t blocks = BlockCount();
  if (lba >= blocks) return done(CheckCondition(kLbaOutOfRange));
  // One descriptor: everything from `lba` reported mapped (the BlockDevice interface cannot
  // tell allocation apart). Allowed by SBC-3: a deallocated block may be reported mapped.
  uint8_t buf[24] = {};
  Store32(buf, 20);
  Store64(buf + 8, lba);
  Store32(buf + 16, uint32_t(std::min<uint64_t>(blocks - lba, 0xffffffffu)));
  buf[20] = 0x00;  // PROVISIONING STATUS: mapped
  ScsiResult r;
  SetDataInTruncated(r, buf, sizeof buf, alloc);
  done(std::move(r));
}

void ScsiUnit::Prefetch(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const LbaLen d = DecodeLbaLen(cmd.cdb);
  ScsiResult err;
  if (!CheckRange(d.lba, d.len, &err)) return done(std::move(err));
  // GOOD, not CONDITION MET: we do not keep a cache to prefetch into (SBC-3 5.9), and
  // iscsi-test-cu's Prefetch tests expect GOOD.
  done(ScsiResult{});
}

void ScsiUnit::SynchronizeCache(const Nexus&, ScsiCommand& cmd, ScsiCallback& done) {
  const bool sixteen = cmd.cdb[0] == op::kSyncCache16;
  const uint64_t lba = sixteen ? Load64(&cmd.cdb[2]) : Load32(&cmd.cdb[2]);
  const uint32_t nb = sixteen ? Load32(&cmd.cdb[10]) : Load16(&cmd.cdb[7]);
  ScsiResult err;
  if (!CheckRange(lba, nb, &err)) return done(std::move(err));
  // The whole device is flushed whatever the range: BlockDevice has no ranged flush.
  IoContext* ctx = AcquireContext();
  ctx->done = std::move(done);
  ctx->was_write = true;
  device_->Flush([ctx](Status st) { IoDone(ctx, st); });
}

}  // namespace scoria::target::scsi
