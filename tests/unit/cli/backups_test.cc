// The backup verbs' pure helpers: the --wait progress bar and byte sizes.
#include "cli/backups.h"

#include <gtest/gtest.h>

namespace scoria::cli {
namespace {

TEST(BackupsCliTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(512ULL << 20), "512.0 MiB");
  EXPECT_EQ(HumanBytes(1ULL << 30), "1.0 GiB");
}

TEST(BackupsCliTest, ProgressBar) {
  EXPECT_EQ(ProgressBar(512ULL << 20, 1ULL << 30, 10),
            "[#####-----]  50%  512.0 MiB / 1.0 GiB");
  EXPECT_EQ(ProgressBar(0, 0, 4), "[----]   0%  0 B / 0 B");
  EXPECT_EQ(ProgressBar(7, 7, 4), "[####] 100%  7 B / 7 B");
  // A done count beyond the total (a report racing the plan) never overflows the bar.
  EXPECT_EQ(ProgressBar(9, 7, 4), "[####] 100%  7 B / 7 B");
}

}  // namespace
}  // namespace scoria::cli
