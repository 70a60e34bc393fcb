// The frozen formats: chunk objects and manifests round-trip, and every kind of damage is
// refused with a reason, never decoded into wrong data.
#include <gtest/gtest.h>

#include <cstring>

#include "backup/chunk.h"
#include "backup/manifest.h"
#include "test_util.h"

namespace scoria::backup {
namespace {

using testing::kMiB;
using testing::RandomBytes;
using testing::TextBytes;

TEST(ChunkTest, HexRoundTripAndObjectName) {
  ChunkId id = Sha256(TextBytes(1000, 1));
  std::string hex = ToHex(id);
  ASSERT_EQ(hex.size(), 64u);
  Result<ChunkId> back = ChunkIdFromHex(hex);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, id);
  EXPECT_EQ(ChunkObjectName(id), "chunks/" + hex.substr(0, 2) + "/" + hex);
  EXPECT_FALSE(ChunkIdFromHex(hex.substr(1)).ok());
  std::string upper = hex;
  upper[0] = 'G';
  EXPECT_FALSE(ChunkIdFromHex(upper).ok());
}

TEST(ChunkTest, Sha256KnownAnswer) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  std::string abc = "abc";
  ChunkId id = Sha256({reinterpret_cast<const std::byte*>(abc.data()), abc.size()});
  EXPECT_EQ(ToHex(id), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ChunkTest, AllZero) {
  std::vector<std::byte> z(4 * kMiB);
  EXPECT_TRUE(IsAllZero(z));
  z[4 * kMiB - 1] = std::byte{1};
  EXPECT_FALSE(IsAllZero(z));
  z[4 * kMiB - 1] = std::byte{0};
  z[3] = std::byte{1};
  EXPECT_FALSE(IsAllZero(z));
  EXPECT_TRUE(IsAllZero({}));
}

TEST(ChunkTest, CompressibleRoundTrip) {
  ChunkCodec codec;
  auto raw = TextBytes(4 * kMiB, 7);
  std::vector<std::byte> obj, out;
  ASSERT_TRUE(codec.Encode(raw, obj).ok());
  EXPECT_LT(obj.size(), raw.size() / 10);
  ChunkHeaderV1 h;
  std::memcpy(&h, obj.data(), sizeof h);
  EXPECT_EQ(h.codec, static_cast<uint8_t>(ChunkCodecId::kZstd));
  ASSERT_TRUE(codec.Decode(obj, Sha256(raw), raw.size(), out).ok());
  EXPECT_EQ(out, raw);
}

TEST(ChunkTest, IncompressibleStoredRaw) {
  ChunkCodec codec;
  auto raw = RandomBytes(1 * kMiB, 3);
  std::vector<std::byte> obj, out;
  ASSERT_TRUE(codec.Encode(raw, obj).ok());
  EXPECT_EQ(obj.size(), raw.size() + sizeof(ChunkHeaderV1));
  ChunkHeaderV1 h;
  std::memcpy(&h, obj.data(), sizeof h);
  EXPECT_EQ(h.codec, static_cast<uint8_t>(ChunkCodecId::kNone));
  ASSERT_TRUE(codec.Decode(obj, Sha256(raw), raw.size(), out).ok());
  EXPECT_EQ(out, raw);
}

TEST(ChunkTest, DecodeRefusesDamage) {
  ChunkCodec codec;
  auto raw = TextBytes(256 * 1024, 9);
  ChunkId id = Sha256(raw);
  std::vector<std::byte> obj, out;
  ASSERT_TRUE(codec.Encode(raw, obj).ok());
  auto expect_bad = [&](std::vector<std::byte> o, uint32_t len, const ChunkId& want,
                        const std::string& why) {
    Status st = codec.Decode(o, want, len, out);
    EXPECT_EQ(st.code(), StatusCode::kInternal) << why;
    EXPECT_NE(st.message().find(why), std::string::npos) << st.message();
  };
  auto o = obj;
  o[0] = std::byte{'X'};
  expect_bad(o, raw.size(), id, "bad magic");
  o = obj;
  o[8] = std::byte{0xff};  // raw_length, covered by the header check
  expect_bad(o, raw.size(), id, "header checksum");
  o = obj;
  o[obj.size() / 2] ^= std::byte{0x40};  // inside the zstd frame
  {
    Status st = codec.Decode(o, id, raw.size(), out);
    EXPECT_FALSE(st.ok());  // zstd error or sha mismatch, depending on where the flip lands
  }
  o = obj;
  o.resize(o.size() - 10);
  expect_bad(o, raw.size(), id, "header says");
  expect_bad(obj, raw.size() - 512, id, "expected");
  ChunkId other = id;
  other[0] ^= 1;
  expect_bad(obj, raw.size(), other, "sha256 mismatch");
  expect_bad(std::vector<std::byte>(10), raw.size(), id, "shorter than a chunk header");
}

Manifest SampleManifest() {
  Manifest m;
  m.backup_id = "b-1";
  m.parent_id = "b-0";
  m.volume_id = "v-1";
  m.chunk_size = 1 * kMiB;
  m.volume_size = 5 * kMiB + 4096;  // last chunk short
  m.created_micros = 1700000000123456;
  m.chunks.resize(m.ChunkCount());
  for (size_t i = 0; i < m.chunks.size(); ++i) {
    if (i % 2 == 0) continue;
    m.chunks[i].hole = false;
    m.chunks[i].id = Sha256(TextBytes(100, static_cast<uint32_t>(i)));
    m.chunks[i].stored_length = 1000 + static_cast<uint32_t>(i);
  }
  return m;
}

TEST(ManifestTest, RoundTrip) {
  Manifest m = SampleManifest();
  ASSERT_TRUE(ValidateManifest(m).ok());
  EXPECT_EQ(m.ChunkCount(), 6u);
  EXPECT_EQ(m.ChunkLength(5), 4096u);
  auto enc = EncodeManifest(m);
  EXPECT_EQ(enc.size(), 128 + (2 + 3) * 3 + 6 * 40 + 32u);
  Result<Manifest> back = DecodeManifest(enc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
}

TEST(ManifestTest, EveryFlippedByteIsRefused) {
  auto enc = EncodeManifest(SampleManifest());
  for (size_t i = 0; i < enc.size(); ++i) {
    auto bad = enc;
    bad[i] ^= std::byte{0x01};
    Result<Manifest> r = DecodeManifest(bad);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(ManifestTest, TruncatedAndExtendedRefused) {
  auto enc = EncodeManifest(SampleManifest());
  for (size_t n : {size_t{0}, size_t{100}, enc.size() - 1}) {
    auto bad = enc;
    bad.resize(n);
    EXPECT_FALSE(DecodeManifest(bad).ok()) << n;
  }
  auto longer = enc;
  longer.push_back(std::byte{0});
  EXPECT_FALSE(DecodeManifest(longer).ok());
}

TEST(ManifestTest, NewerVersionRefusedWithReason) {
  Manifest m = SampleManifest();
  auto enc = EncodeManifest(m);
  uint32_t v = 2;
  std::memcpy(enc.data() + 8, &v, 4);
  Result<Manifest> r = DecodeManifest(enc);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("version 2"), std::string::npos) << r.status().message();
}

TEST(ManifestTest, ValidateRefusesInconsistentManifests) {
  Manifest m = SampleManifest();
  m.chunks.pop_back();
  EXPECT_FALSE(ValidateManifest(m).ok());
  m = SampleManifest();
  m.backup_id = "";
  EXPECT_FALSE(ValidateManifest(m).ok());
  m = SampleManifest();
  m.volume_id = "../etc";
  EXPECT_FALSE(ValidateManifest(m).ok());
  m = SampleManifest();
  m.chunk_size = 1000;
  EXPECT_FALSE(ValidateManifest(m).ok());
  m = SampleManifest();
  m.chunks[0].stored_length = 5;  // a hole with a length
  EXPECT_FALSE(ValidateManifest(m).ok());
  m = SampleManifest();
  m.volume_size += 1;
  EXPECT_FALSE(ValidateManifest(m).ok());
}

TEST(ManifestTest, Totals) {
  Manifest m = SampleManifest();
  m.chunks[3] = m.chunks[1];  // a duplicate chunk counts once
  ManifestTotals t = ComputeTotals(m);
  EXPECT_EQ(t.data_chunks, 3u);
  EXPECT_EQ(t.hole_chunks, 3u);
  EXPECT_EQ(t.distinct_chunks, 2u);
  EXPECT_EQ(t.stored_bytes, 1001u + 1005u);
  EXPECT_EQ(t.data_bytes, 2 * kMiB + 4096);
}

TEST(RecordTest, JsonRoundTrip) {
  Manifest m = SampleManifest();
  ManifestRecord r = MakeRecord(m);
  EXPECT_EQ(r.manifest_sha256, ToHex(ManifestDigest(EncodeManifest(m))));
  EXPECT_EQ(r.chunk_count, 6u);
  EXPECT_EQ(r.object_count, 3u);
  std::string json = RecordToJson(r);
  EXPECT_NE(json.find("\"format\":\"scoria-backup-manifest\""), std::string::npos) << json;
  Result<ManifestRecord> back = RecordFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(RecordTest, BadJsonRefused) {
  std::string good = RecordToJson(MakeRecord(SampleManifest()));
  EXPECT_FALSE(RecordFromJson("not json").ok());
  EXPECT_FALSE(RecordFromJson("[]").ok());
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t p = s.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    s.replace(p, from.size(), to);
    return s;
  };
  EXPECT_FALSE(RecordFromJson(edit("\"format_version\":1", "\"format_version\":9")).ok());
  EXPECT_FALSE(
      RecordFromJson(edit("\"format\":\"scoria-backup-manifest\"", "\"format\":\"x\"")).ok());
  EXPECT_FALSE(RecordFromJson(edit("\"volume_size\":", "\"volume_size\":-")).ok());
  EXPECT_FALSE(RecordFromJson(edit("\"backup_id\":\"b-1\"", "\"backup_id\":7")).ok());
  EXPECT_FALSE(RecordFromJson(edit("\"backup_id\":\"b-1\"", "\"backup_id\":\"a/b\"")).ok());
  EXPECT_FALSE(RecordFromJson(edit("\"manifest_sha256\":\"", "\"manifest_sha256\":\"zz")).ok());
  Result<ManifestRecord> extra = RecordFromJson(edit("{", "{\"future_key\":1,"));
  EXPECT_TRUE(extra.ok()) << extra.status().ToString();
}

}  // namespace
}  // namespace scoria::backup
