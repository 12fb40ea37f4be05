// Prefixed ULIDs (DESIGN.md section 4, "IDs"): Crockford base32, 48-bit millisecond
// time + 80 random bits, monotonic within one generator.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "platform/ulid.hpp"

namespace ulid = sk::ulid;

namespace {

ulid::Bytes time_bytes(uint64_t ms) {
  ulid::Bytes b{};
  for (int i = 5; i >= 0; --i) {
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(ms & 0xff);
    ms >>= 8;
  }
  return b;
}

// A deterministic RNG: fills with a counter-based pattern so tests know every byte.
struct CountingRandom {
  std::shared_ptr<uint8_t> next = std::make_shared<uint8_t>(0);
  void operator()(uint8_t* out, size_t n) const {
    for (size_t i = 0; i < n; ++i) out[i] = (*next)++;
  }
};

ulid::Generator::Random fill_with(uint8_t byte) {
  return [byte](uint8_t* out, size_t n) { std::memset(out, byte, n); };
}

std::string id_with_body(const std::string& prefix, std::string body) { return prefix + "_" + body; }

const std::string kValidBody = "01ARYZ6S41TSV4RRFFQ69G5FAV";

}  // namespace

TEST(UlidEncode, AllZeroBytesAreTwentySixZeros) {
  EXPECT_EQ(ulid::encode(ulid::Bytes{}), std::string(26, '0'));
}

TEST(UlidEncode, AllOnesIsSevenThenZ) {
  ulid::Bytes b;
  b.fill(0xff);
  EXPECT_EQ(ulid::encode(b), "7" + std::string(25, 'Z'));
}

TEST(UlidEncode, MaximumTimestampWithZeroRandomness) {
  ulid::Bytes b = time_bytes((uint64_t{1} << 48) - 1);
  EXPECT_EQ(ulid::encode(b), "7ZZZZZZZZZ" + std::string(16, '0'));
  EXPECT_EQ(ulid::timestamp_ms(b), 281474976710655u);
}

TEST(UlidEncode, KnownTimestampFromTheUlidSpecification) {
  // 1469918176385 ms encodes as 01ARYZ6S41 (the reference implementation's vector).
  EXPECT_EQ(ulid::encode(time_bytes(1469918176385ULL)).substr(0, 10), "01ARYZ6S41");
}

TEST(UlidEncode, LowestRandomBitIsTheLastCharacter) {
  ulid::Bytes b{};
  b[15] = 1;
  EXPECT_EQ(ulid::encode(b), std::string(25, '0') + "1");
  b[15] = 31;
  EXPECT_EQ(ulid::encode(b), std::string(25, '0') + "Z");
  b[15] = 32;
  EXPECT_EQ(ulid::encode(b), std::string(24, '0') + "10");
}

TEST(UlidEncode, UsesOnlyCrockfordAlphabet) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 1000; ++i) {
    ulid::Bytes b;
    for (auto& byte : b) byte = static_cast<uint8_t>(rng());
    std::string s = ulid::encode(b);
    ASSERT_EQ(s.size(), 26u);
    EXPECT_EQ(s.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), std::string::npos) << s;
    EXPECT_LE(s[0], '7') << s;
  }
}

TEST(UlidDecode, RoundTripsRandomValues) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    ulid::Bytes b;
    for (auto& byte : b) byte = static_cast<uint8_t>(rng());
    auto back = ulid::decode(ulid::encode(b));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, b);
  }
}

TEST(UlidDecode, RejectsWrongLength) {
  EXPECT_FALSE(ulid::decode(""));
  EXPECT_FALSE(ulid::decode(std::string(25, '0')));
  EXPECT_FALSE(ulid::decode(std::string(27, '0')));
}

TEST(UlidDecode, RejectsFirstCharacterAboveSeven) {
  // 26 characters carry 130 bits; a first digit above 7 would overflow 128.
  EXPECT_TRUE(ulid::decode("7" + std::string(25, 'Z')));
  EXPECT_FALSE(ulid::decode("8" + std::string(25, '0')));
  EXPECT_FALSE(ulid::decode("Z" + std::string(25, '0')));
}

TEST(UlidDecode, RejectsCharactersOutsideTheAlphabet) {
  for (char bad : {'U', 'u', '-', ' ', '*', '\0'}) {
    std::string s = kValidBody;
    s[10] = bad;
    EXPECT_FALSE(ulid::decode(s)) << "character code " << static_cast<int>(bad);
  }
}

TEST(UlidDecode, AcceptsCrockfordAliasesAndLowercase) {
  // Decoding is lenient as Crockford specifies (O=0, I=L=1, any case); ids are not.
  std::string canonical = std::string(24, '0') + "11";
  EXPECT_EQ(ulid::decode(std::string(24, 'O') + "IL"), ulid::decode(canonical));
  EXPECT_EQ(ulid::decode(std::string(24, 'o') + "il"), ulid::decode(canonical));
  EXPECT_EQ(ulid::decode("01arYZ6s41tsv4rrffq69g5fav"), ulid::decode(kValidBody));
}

TEST(UlidIds, TimestampIsReadableOffTheId) {
  ulid::Bytes b = time_bytes(1700000000123ULL);
  std::string id = "mov_" + ulid::encode(b);
  auto ms = ulid::id_timestamp_ms(id, "mov");
  ASSERT_TRUE(ms.has_value());
  EXPECT_EQ(*ms, 1700000000123ULL);
  EXPECT_EQ(ulid::id_timestamp_ms(id_with_body("itm", kValidBody), "itm"), 1469918176385ULL);
}

TEST(UlidIds, IsIdChecksThePrefix) {
  std::string id = id_with_body("itm", kValidBody);
  EXPECT_TRUE(ulid::is_id(id, "itm"));
  EXPECT_FALSE(ulid::is_id(id, "loc"));
  EXPECT_FALSE(ulid::is_id(id, "it"));    // a shorter prefix leaves "m_" in the body
  EXPECT_FALSE(ulid::is_id(id, "itm_"));  // the underscore is not part of the prefix
  EXPECT_FALSE(ulid::is_id("itmx_" + kValidBody, "itm"));
  EXPECT_FALSE(ulid::is_id("itm-" + kValidBody, "itm"));
  EXPECT_FALSE(ulid::is_id(kValidBody, "itm"));
  EXPECT_FALSE(ulid::is_id("ITM_" + kValidBody, "itm"));
  EXPECT_TRUE(ulid::is_id("we_" + kValidBody, "we"));
}

TEST(UlidIds, IsIdRejectsBadBodies) {
  EXPECT_FALSE(ulid::is_id("itm_" + kValidBody.substr(0, 25), "itm"));
  EXPECT_FALSE(ulid::is_id("itm_" + kValidBody + "0", "itm"));
  EXPECT_FALSE(ulid::is_id("itm_8" + kValidBody.substr(1), "itm"));
  EXPECT_FALSE(ulid::is_id("itm_", "itm"));
  EXPECT_FALSE(ulid::is_id("", "itm"));
}

TEST(UlidIds, IsIdRejectsAliasesAndLowercaseThatDecodeAccepts) {
  // Ids are issued uppercase without I, L, O, U; accepting aliases would give one
  // object several spellings.
  for (char bad : {'I', 'L', 'O', 'U', 'i', 'l', 'o', 'u', 'a', 'z'}) {
    std::string body = kValidBody;
    body[12] = bad;
    EXPECT_FALSE(ulid::is_id("itm_" + body, "itm")) << bad;
    EXPECT_FALSE(ulid::id_timestamp_ms("itm_" + body, "itm").has_value()) << bad;
  }
}

TEST(UlidGenerator, FormatsPrefixedIds) {
  ulid::Generator g([] { return uint64_t{1700000000000}; }, CountingRandom{});
  std::string id = g.next_id("req");
  EXPECT_EQ(id.size(), 30u);
  EXPECT_EQ(id.substr(0, 4), "req_");
  EXPECT_TRUE(ulid::is_id(id, "req"));
  EXPECT_EQ(ulid::id_timestamp_ms(id, "req"), 1700000000000ULL);
}

TEST(UlidGenerator, FirstIdCarriesClockAndRandomBytes) {
  ulid::Generator g([] { return uint64_t{1700000000000}; }, CountingRandom{});
  ulid::Bytes b = g.next();
  EXPECT_EQ(ulid::timestamp_ms(b), 1700000000000ULL);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(b[6 + i], i) << i;
}

TEST(UlidGenerator, MonotonicWithinOneMillisecond) {
  ulid::Generator g([] { return uint64_t{1700000000000}; }, CountingRandom{});
  std::vector<std::string> ids;
  ulid::Bytes prev = g.next();
  ids.push_back(ulid::encode(prev));
  for (int i = 1; i < 10000; ++i) {
    ulid::Bytes b = g.next();
    ASSERT_EQ(ulid::timestamp_ms(b), 1700000000000ULL);
    // The 80-bit random part grows by exactly one.
    ulid::Bytes expected = prev;
    for (int k = 15; k >= 6; --k)
      if (++expected[static_cast<size_t>(k)] != 0) break;
    ASSERT_EQ(b, expected) << "at id " << i;
    ids.push_back(ulid::encode(b));
    ASSERT_LT(ids[ids.size() - 2], ids.back()) << "at id " << i;
    prev = b;
  }
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 10000u);
}

TEST(UlidGenerator, RandomOverflowCarriesIntoTheTimestamp) {
  ulid::Generator g([] { return uint64_t{1000}; }, fill_with(0xff));
  ulid::Bytes first = g.next();
  ulid::Bytes second = g.next();
  EXPECT_EQ(ulid::timestamp_ms(first), 1000u);
  EXPECT_EQ(ulid::timestamp_ms(second), 1001u);
  for (size_t i = 6; i < 16; ++i) EXPECT_EQ(second[i], 0) << i;
  EXPECT_LT(ulid::encode(first), ulid::encode(second));
}

TEST(UlidGenerator, OrderedAcrossMillisecondsWhateverTheRandomBytes) {
  // Random parts that decrease from one millisecond to the next must not matter.
  uint64_t now = 5000;
  uint8_t fill = 0xff;
  ulid::Generator g([&now] { return now; }, [&fill](uint8_t* out, size_t n) { std::memset(out, fill--, n); });
  std::string prev = g.next_id("evt");
  for (int i = 0; i < 100; ++i) {
    ++now;
    std::string id = g.next_id("evt");
    EXPECT_LT(prev, id);
    EXPECT_EQ(ulid::id_timestamp_ms(id, "evt"), now);
    prev = id;
  }
}

TEST(UlidGenerator, NewMillisecondDrawsFreshRandomness) {
  uint64_t now = 5000;
  ulid::Generator g([&now] { return now; }, CountingRandom{});
  ulid::Bytes a = g.next();
  ++now;
  ulid::Bytes b = g.next();
  EXPECT_EQ(ulid::timestamp_ms(b), 5001u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(b[6 + i], 10 + i) << i;  // next 10 counter bytes
  EXPECT_NE(a, b);
}

TEST(UlidGenerator, ClockSteppingBackKeepsOrder) {
  uint64_t now = 9000;
  ulid::Generator g([&now] { return now; }, CountingRandom{});
  std::string a = g.next_id("mov");
  now = 8000;
  std::string b = g.next_id("mov");
  EXPECT_LT(a, b);
  EXPECT_EQ(ulid::id_timestamp_ms(b, "mov"), 9000u);  // time never goes backwards
}

TEST(UlidGenerator, DefaultGeneratorUsesTheSystemClock) {
  using namespace std::chrono;
  auto before = static_cast<uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  ulid::Generator g;
  std::string a = g.next_id("key");
  std::string b = g.next_id("key");
  auto after = static_cast<uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  ASSERT_TRUE(ulid::is_id(a, "key"));
  ASSERT_TRUE(ulid::is_id(b, "key"));
  EXPECT_LT(a, b);
  uint64_t ms = *ulid::id_timestamp_ms(a, "key");
  EXPECT_GE(ms, before);
  EXPECT_LE(ms, after);
}

TEST(UlidGenerator, NextAfterAFloorFromAnotherGeneratorStaysAboveIt) {
  // Another backend issued `floor` in this same millisecond with larger random bits.
  ulid::Generator other([] { return uint64_t{1700000000000}; }, fill_with(0xF0));
  ulid::Bytes floor = other.next();
  ulid::Generator g([] { return uint64_t{1700000000000}; }, fill_with(0x01));
  ASSERT_LT(g.next(), floor) << "without the floor this generator's id would sort first";
  ulid::Bytes after = g.next_after(floor);
  EXPECT_GT(after, floor);
  EXPECT_LT(ulid::encode(floor), ulid::encode(after));
  EXPECT_EQ(ulid::timestamp_ms(after), 1700000000000ULL);
  EXPECT_GT(g.next(), after) << "and the generator continues from there";
}

TEST(UlidGenerator, NextAfterAFloorDoesNotWalkIntoTheFloorsGenerator) {
  // Both backends keep issuing ids in one millisecond: the one that jumped above the
  // other's id must not reissue the ids the other is about to count up to.
  ulid::Generator a([] { return uint64_t{1700000000000}; }, fill_with(0x80));
  ulid::Generator b([] { return uint64_t{1700000000000}; }, fill_with(0x10));
  std::set<ulid::Bytes> issued;
  ulid::Bytes floor = a.next();
  issued.insert(floor);
  ASSERT_TRUE(issued.insert(b.next_after(floor)).second);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(issued.insert(a.next()).second) << "a, id " << i;
    ASSERT_TRUE(issued.insert(b.next()).second) << "b, id " << i;
  }
}

TEST(UlidGenerator, NextAfterAnOlderFloorIsJustTheNextId) {
  ulid::Generator g([] { return uint64_t{1700000000005}; }, fill_with(0x01));
  ulid::Generator old([] { return uint64_t{1700000000000}; }, fill_with(0xFF));
  ulid::Bytes floor = old.next();
  ulid::Bytes after = g.next_after(floor);
  EXPECT_EQ(ulid::timestamp_ms(after), 1700000000005ULL);
  EXPECT_EQ(after[6], 0x01);
}
