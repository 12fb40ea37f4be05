// Prefixed ULIDs: "<prefix>_" + 26 Crockford base32 characters encoding a 48-bit
// millisecond timestamp and 80 random bits. Pure C++ so the shim and the unit tests
// share exactly the code the extension uses.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace sk::ulid {

using Bytes = std::array<uint8_t, 16>;  // big-endian: 6 bytes time, 10 bytes randomness

std::string encode(const Bytes& b);                       // 26 characters
std::optional<Bytes> decode(std::string_view text);       // nullopt unless valid
uint64_t timestamp_ms(const Bytes& b);

// Monotonic within one generator: a second id in the same millisecond increments the
// random part instead of drawing a new one, so ids sort in creation order.
class Generator {
 public:
  using Clock = std::function<uint64_t()>;                 // ms since epoch
  using Random = std::function<void(uint8_t*, size_t)>;    // fills bytes
  Generator(Clock clock, Random random);
  Generator();                                             // system clock, OpenSSL RNG
  Bytes next();
  // The next id, and greater than `floor` (an id another generator issued): ids of one
  // sequence of events stay in order across backends even within one millisecond.
  Bytes next_after(const Bytes& floor);
  std::string next_id(std::string_view prefix);            // "itm_01J9X..."

 private:
  Bytes advance(const Bytes& last, uint64_t step);

  Clock clock_;
  Random random_;
  Bytes last_{};
  uint64_t last_ms_ = 0;
};

// Splits "itm_01J9..." and checks prefix and ULID; returns the timestamp in ms.
std::optional<uint64_t> id_timestamp_ms(std::string_view id, std::string_view prefix);
bool is_id(std::string_view id, std::string_view prefix);

}  // namespace sk::ulid
