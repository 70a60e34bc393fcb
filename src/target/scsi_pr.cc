// Reservations: RESERVE(6)/RELEASE(6) (SPC-2 7.21-7.22) and persistent reservations (SPC-4
// 5.9, 6.15-6.16). State is per LU, in memory (APTPL is refused: nothing survives a restart),
// registrations keyed by I_T nexus. All of it is under mu_.
#include <algorithm>
#include <cstring>
#include <vector>

#include "target/scsi_cdb.h"
#include "target/scsi_unit.h"

namespace scoria::target::scsi {
namespace {

bool AllRegistrantsType(uint8_t type) {
  return type == kPrWriteExclusiveAllRegistrants || type == kPrExclusiveAccessAllRegistrants;
}
bool ValidType(uint8_t type) {
  return type == kPrWriteExclusive || type == kPrExclusiveAccess ||
         type == kPrWriteExclusiveRegistrantsOnly || type == kPrExclusiveAccessRegistrantsOnly ||
         AllRegistrantsType(type);
}

}  // namespace

const ScsiUnit::Registration* ScsiUnit::FindRegistrationLocked(const std::string& nexus_id) const {
  for (const auto& r : registrations_)
    if (r.nexus_id == nexus_id) return &r;
  return nullptr;
}

bool ScsiUnit::IsPrHolderLocked(const std::string& nexus_id) const {
  if (!pr_reserved_) return false;
  if (AllRegistrantsType(pr_type_)) return FindRegistrationLocked(nexus_id) != nullptr;
  return pr_holder_ == nexus_id;
}

bool ScsiUnit::ReservationConflictLocked(const std::string& nexus_id,
                                         const CommandInfo& info) const {
  if (info.access == Access::kAlways) return false;
  if (reserve6_holder_ && *reserve6_holder_ != nexus_id) return true;
  if (!pr_reserved_ || IsPrHolderLocked(nexus_id)) return false;
  const bool registered = FindRegistrationLocked(nexus_id) != nullptr;
  const bool write = info.access == Access::kWrite;
  switch (pr_type_) {
    case kPrWriteExclusive:
      return write;
    case kPrExclusiveAccess:
      return true;
    case kPrWriteExclusiveRegistrantsOnly:
    case kPrWriteExclusiveAllRegistrants:
      return write && !registered;
    case kPrExclusiveAccessRegistrantsOnly:
    case kPrExclusiveAccessAllRegistrants:
      return !registered;
    default:
      return false;
  }
}

void ScsiUnit::Reserve6(const Nexus& nexus, ScsiCommand&, ScsiCallback& done) {
  bool conflict = false;
  {
    std::lock_guard lock(mu_);
    // SPC-4 5.9.1: RESERVE(6) conflicts with a persistent reservation.
    conflict = pr_reserved_ || (reserve6_holder_ && *reserve6_holder_ != nexus.id);
    if (!conflict) reserve6_holder_ = nexus.id;
  }
  done(conflict ? ReservationConflict() : ScsiResult{});
}

void ScsiUnit::Release6(const Nexus& nexus, ScsiCommand&, ScsiCallback& done) {
  bool conflict = false;
  {
    std::lock_guard lock(mu_);
    conflict = pr_reserved_;
    // SPC-2 7.22: a RELEASE from a nexus that holds nothing succeeds and changes nothing.
    if (!conflict && reserve6_holder_ && *reserve6_holder_ == nexus.id) reserve6_holder_.reset();
  }
  done(conflict ? ReservationConflict() : ScsiResult{});
}

void ScsiUnit::PersistentReserveIn(const Nexus& nexus, ScsiCommand& cmd, ScsiCallback& done) {
  const uint8_t sa = cmd.cdb[1] & 0x1f;
  const uint16_t alloc = Load16(&cmd.cdb[7]);
  std::vector<uint8_t> out(8, 0);
  std::optional<ScsiResult> error;
  {
    std::lock_guard lock(mu_);
    if (reserve6_holder_ && *reserve6_holder_ != nexus.id) error = ReservationConflict();
    if (!error) {
    Store32(&out[0], pr_generation_);
    switch (sa) {
      case 0:  // READ KEYS
        for (const auto& r : registrations_) {
          uint8_t k[8];
          Store64(k, r.key);
          out.insert(out.end(), k, k + 8);
        }
        break;
      case 1:  // READ RESERVATION
        if (pr_reserved_) {
          out.resize(24, 0);
          uint64_t key = 0;  // all-registrants types report key 0 (SPC-4 6.15.3.3)
          if (!AllRegistrantsType(pr_type_)) {
            if (const Registration* h = FindRegistrationLocked(pr_holder_)) key = h->key;
          }
          Store64(&out[8], key);
          out[21] = pr_type_ & 0x0f;  // scope 0 (LU)
        }
        break;
      case 2:  // REPORT CAPABILITIES
        out.assign(8, 0);
        Store16(&out[0], 8);
        out[3] = 0x80;  // TMV: the type mask is valid; ALLOW COMMANDS 0; PTPL_A 0
        out[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;  // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
        out[5] = 0x01;                              // EX_AC_AR
        break;
      case 3:  // READ FULL STATUS
        for (const auto& r : registrations_) {
          // iSCSI TransportID, format 0: the initiator name, NUL-terminated, padded to 4.
          std::string name = r.initiator_name;
          size_t name_len = (name.size() + 1 + 3) / 4 * 4;
          if (name_len < 20) name_len = 20;
          std::vector<uint8_t> d(24 + 4 + name_len, 0);
          Store64(&d[0], r.key);
          const bool holder = pr_reserved_ && (AllRegistrantsType(pr_type_) || pr_holder_ == r.nexus_id);
          d[12] = uint8_t(0x02 | (holder ? 0x01 : 0));  // ALL_TG_PT (one port), R_HOLDER
          d[13] = holder ? (pr_type_ & 0x0f) : 0;
          Store16(&d[18], 1);  // relative target port 1
          Store32(&d[20], uint32_t(4 + name_len));
          d[24] = 0x05;        // iSCSI
          Store16(&d[26], uint16_t(name_len));
          std::memcpy(&d[28], name.data(), name.size());
          out.insert(out.end(), d.begin(), d.end());
        }
        break;
      default:
        error = InvalidFieldInCdb(1, 4);
    }
    }
  }
  if (error) return done(std::move(*error));
  if (sa != 2) Store32(&out[4], uint32_t(out.size() - 8));
  ScsiResult r;
  SetDataInTruncated(r, out.data(), out.size(), alloc);
  done(std::move(r));
}

void ScsiUnit::PersistentReserveOut(const Nexus& nexus, ScsiCommand& cmd, ScsiCallback& done) {
  const uint8_t sa = cmd.cdb[1] & 0x1f;
  const uint8_t scope = cmd.cdb[2] >> 4;
  const uint8_t type = cmd.cdb[2] & 0x0f;
  const uint32_t len = Load32(&cmd.cdb[5]);
  if (len != 24 || cmd.data_out.size() < 24) return done(CheckCondition(kParamListLengthError));
  const auto* d = reinterpret_cast<const uint8_t*>(cmd.data_out.data());
  const uint64_t key = Load64(&d[0]);
  const uint64_t sa_key = Load64(&d[8]);
  if (d[20] & 0x08) return done(InvalidFieldInParameterList(20, 3));  // SPEC_I_PT
  if (d[20] & 0x01) return done(InvalidFieldInParameterList(20, 0));  // APTPL: not persisted
  const bool needs_type = sa == 1 || sa == 2 || sa == 4 || sa == 5;
  if (needs_type && scope != 0) return done(InvalidFieldInCdb(2, 7));
  if ((sa == 1 || sa == 4 || sa == 5) && !ValidType(type)) return done(InvalidFieldInCdb(2, 3));

  ScsiResult result = [&]() -> ScsiResult {
  std::lock_guard lock(mu_);
  if (reserve6_holder_ && *reserve6_holder_ != nexus.id) return (ReservationConflict());
  auto reg_it = std::find_if(registrations_.begin(), registrations_.end(),
                             [&](const Registration& r) { return r.nexus_id == nexus.id; });
  const bool registered = reg_it != registrations_.end();

  auto unregister = [&](std::vector<Registration>::iterator it) {
    const std::string id = it->nexus_id;
    registrations_.erase(it);
    if (!pr_reserved_) return;
    if (AllRegistrantsType(pr_type_)) {
      if (registrations_.empty()) pr_reserved_ = false;
    } else if (pr_holder_ == id) {
      // SPC-4 5.9.11.2: the holder's unregistration releases the reservation; registrants of
      // *_REGISTRANTS_ONLY types are told.
      const bool notify = pr_type_ == kPrWriteExclusiveRegistrantsOnly ||
                          pr_type_ == kPrExclusiveAccessRegistrantsOnly;
      pr_reserved_ = false;
      if (notify)
        for (const auto& r : registrations_) QueueUaForLocked(r.nexus_id, kReservationsReleased);
    }
  };

  switch (sa) {
    case 0:    // REGISTER
    case 6: {  // REGISTER AND IGNORE EXISTING KEY
      if (sa == 0) {
        if (!registered && key != 0) return (ReservationConflict());
        if (registered && key != reg_it->key) return (ReservationConflict());
      }
      if (!registered) {
        if (sa_key == 0) return (ScsiResult{});  // nothing to do, generation unchanged
        NexusState& ns = NexusLocked(nexus);
        registrations_.push_back(Registration{nexus.id, ns.initiator_name, sa_key});
      } else if (sa_key == 0) {
        unregister(reg_it);
      } else {
        reg_it->key = sa_key;
      }
      ++pr_generation_;
      return (ScsiResult{});
    }
    case 1: {  // RESERVE
      if (!registered || key != reg_it->key) return (ReservationConflict());
      if (pr_reserved_) {
        if (IsPrHolderLocked(nexus.id) && pr_type_ == type) return (ScsiResult{});
        return (ReservationConflict());
      }
      pr_reserved_ = true;
      pr_type_ = type;
      pr_holder_ = nexus.id;
      return (ScsiResult{});
    }
    case 2: {  // RELEASE
      if (!registered || key != reg_it->key) return (ReservationConflict());
      if (!pr_reserved_ || !IsPrHolderLocked(nexus.id)) return (ScsiResult{});
      if (type != pr_type_) return (CheckCondition(kInvalidReleaseOfPr));
      const bool notify = pr_type_ != kPrWriteExclusive && pr_type_ != kPrExclusiveAccess;
      pr_reserved_ = false;
      if (notify) {
        for (const auto& r : registrations_)
          if (r.nexus_id != nexus.id) QueueUaForLocked(r.nexus_id, kReservationsReleased);
      }
      return (ScsiResult{});
    }
    case 3: {  // CLEAR
      if (!registered || key != reg_it->key) return (ReservationConflict());
      for (const auto& r : registrations_)
        if (r.nexus_id != nexus.id) QueueUaForLocked(r.nexus_id, kReservationsPreempted);
      registrations_.clear();
      pr_reserved_ = false;
      ++pr_generation_;
      return (ScsiResult{});
    }
    case 4:    // PREEMPT
    case 5: {  // PREEMPT AND ABORT (aborting the tasks is the iSCSI layer's job)
      if (!registered || key != reg_it->key) return (ReservationConflict());
      const std::string me = nexus.id;
      auto remove_matching = [&](auto pred) {
        size_t removed = 0;
        for (auto it = registrations_.begin(); it != registrations_.end();) {
          if (it->nexus_id != me && pred(*it)) {
            QueueUaForLocked(it->nexus_id, kRegistrationsPreempted);
            it = registrations_.erase(it);
            ++removed;
          } else {
            ++it;
          }
        }
        return removed;
      };
      if (pr_reserved_ && AllRegistrantsType(pr_type_) && sa_key == 0) {
        // SPC-4 5.9.11.4.3: preempt everyone else and take a new reservation.
        remove_matching([](const Registration&) { return true; });
        pr_type_ = type;
        pr_holder_ = me;
      } else if (pr_reserved_ && !AllRegistrantsType(pr_type_) &&
                 FindRegistrationLocked(pr_holder_) &&
                 FindRegistrationLocked(pr_holder_)->key == sa_key) {
        // Preempting the holder: its registrations go, we take the reservation.
        remove_matching([&](const Registration& r) { return r.key == sa_key; });
        pr_type_ = type;
        pr_holder_ = me;
      } else {
        if (sa_key == 0) return (InvalidFieldInParameterList(8));
        if (remove_matching([&](const Registration& r) { return r.key == sa_key; }) == 0)
          return (ReservationConflict());
      }
      ++pr_generation_;
      return (ScsiResult{});
    }
    default:
      return (InvalidFieldInCdb(1, 4));
  }
  }();
  done(std::move(result));
}

}  // namespace scoria::target::scsi
