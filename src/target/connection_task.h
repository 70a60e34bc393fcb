// Internal to connection*.cc: one SCSI task of a connection (its write data flow and its
// abort state), and CmdSN arithmetic. Not a public header of target/.
#pragma once

#include <cstdint>

#include "target/connection.h"

namespace scoria::target {

// RFC 1982 serial number arithmetic on 32 bits.
inline bool SnLess(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

struct Connection::Task {
  uint32_t itt = 0;
  uint32_t cmd_sn = 0;
  uint64_t lun = 0;
  bool immediate = false;
  ScsiCommand cmd;
  // Write data flow.
  uint32_t received = 0;          // bytes of data-out in place
  uint32_t unsolicited_end = 0;   // immediate + unsolicited Data-Out stop here
  uint32_t r2t_end = 0;           // end offset of the outstanding R2T (0 = none)
  uint32_t ttt = kReservedTag;    // of the outstanding R2T
  uint32_t r2t_sn = 0;
  uint32_t expected_data_sn = 0;  // within the current Data-Out sequence
  uint32_t data_in_sn = 0;
  bool executing = false;
  bool aborted = false;
  bool failed = false;            // answered early (bad data-out); late data is ignored
  bool oversized = false;         // a write announcing more data than any command may carry
};

}  // namespace scoria::target
