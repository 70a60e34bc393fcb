// A check both object stores run: 23 chunks and a manifest Put into a store opened with a page
// of 7 names, then listed whole and by prefix. Each page boundary must neither drop nor repeat
// a name (S3 continuation tokens, Swift markers).
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "backup/store.h"

namespace scoria::backup::testing {

inline void ExpectListAcrossPagesOfSeven(BackupStore& s) {
  std::set<std::string> want;
  for (int i = 0; i < 23; ++i) {
    std::string n = "chunks/p" + std::to_string(i % 3) + "/c" + std::to_string(i);
    ASSERT_TRUE(s.Put(n, {reinterpret_cast<const std::byte*>(n.data()), n.size()}).ok());
    want.insert(n);
  }
  ASSERT_TRUE(s.Put("manifests/m", {}).ok());
  auto l = s.List("chunks/");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  std::set<std::string> got;
  for (auto& i : *l) {
    got.insert(i.name);
    EXPECT_EQ(i.size, i.name.size());
    EXPECT_GT(i.modified_micros, 0);
  }
  EXPECT_EQ(l->size(), 23u);  // no name listed twice
  EXPECT_EQ(got, want);
  EXPECT_EQ(s.List("chunks/p1/")->size(), 8u);
  EXPECT_EQ(s.List("")->size(), 24u);
}

}  // namespace scoria::backup::testing
