#include "platform/ulid.hpp"

#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace sk::ulid {
namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Crockford base32 digit values by byte, -1 for anything else: lenient (lowercase, and
// O, I, L read as 0, 1, 1) for decode(), canonical (the uppercase alphabet only) for ids.
// Tables, because a batch of 1000 movements decodes thousands of ids.
using DigitTable = std::array<int8_t, 256>;
constexpr DigitTable digit_table(bool lenient) {
  DigitTable t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 32; ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
    if (lenient) t[static_cast<unsigned char>(kAlphabet[i] >= 'A' ? kAlphabet[i] - 'A' + 'a' : kAlphabet[i])] = static_cast<int8_t>(i);
  }
  if (lenient)
    for (auto [alias, value] : {std::pair{'O', 0}, std::pair{'o', 0}, std::pair{'I', 1}, std::pair{'i', 1}, std::pair{'L', 1},
                                std::pair{'l', 1}})
      t[static_cast<unsigned char>(alias)] = static_cast<int8_t>(value);
  return t;
}
constexpr DigitTable kLenient = digit_table(true);
constexpr DigitTable kCanonical = digit_table(false);

std::optional<Bytes> decode_with(const DigitTable& digits, std::string_view text) {
  if (text.size() != 26) return std::nullopt;
  unsigned __int128 v = 0;
  for (size_t i = 0; i < 26; ++i) {
    int d = digits[static_cast<unsigned char>(text[i])];
    if (d < 0 || (i == 0 && d > 7)) return std::nullopt;
    v = (v << 5) | static_cast<unsigned>(d);
  }
  Bytes b{};
  for (int i = 15; i >= 0; --i) {
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
  return b;
}
}  // namespace

std::string encode(const Bytes& b) {
  // 128 bits -> 26 chars of 5 bits; the first char carries only the top 3 bits.
  std::string out(26, '0');
  unsigned __int128 v = 0;
  for (uint8_t byte : b) v = (v << 8) | byte;
  for (int i = 25; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kAlphabet[static_cast<unsigned>(v & 31)];
    v >>= 5;
  }
  return out;
}

std::optional<Bytes> decode(std::string_view text) { return decode_with(kLenient, text); }

uint64_t timestamp_ms(const Bytes& b) {
  uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = (ms << 8) | b[static_cast<size_t>(i)];
  return ms;
}

Generator::Generator(Clock clock, Random random) : clock_(std::move(clock)), random_(std::move(random)) {}

Generator::Generator()
    : Generator(
          [] {
            using namespace std::chrono;
            return static_cast<uint64_t>(
                duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
          },
          [](uint8_t* out, size_t n) {
            // RAND_bytes costs about as much for 256 bytes as for 10, and an id takes 10;
            // the buffer is per thread (the shim's handlers) and refilled after a fork,
            // so no two processes ever share its bytes.
            thread_local uint8_t buffer[256];
            thread_local size_t used = sizeof buffer;
            thread_local pid_t owner = 0;
            if (owner != getpid()) {
              owner = getpid();
              used = sizeof buffer;
            }
            while (n > 0) {
              if (used == sizeof buffer) {
                if (RAND_bytes(buffer, sizeof buffer) != 1) throw std::runtime_error("RAND_bytes failed");
                used = 0;
              }
              size_t take = std::min(n, sizeof buffer - used);
              std::memcpy(out, buffer + used, take);
              std::memset(buffer + used, 0, take);  // an id's bytes do not linger
              used += take;
              out += take;
              n -= take;
            }
          }) {}

// `last` plus `step` in the 80-bit random part; overflow carries into the time, which
// keeps the order.
Bytes Generator::advance(const Bytes& last, uint64_t step) {
  last_ = last;
  for (int i = 15; i >= 0 && step != 0; --i) {
    uint64_t sum = last_[static_cast<size_t>(i)] + (step & 0xff);
    last_[static_cast<size_t>(i)] = static_cast<uint8_t>(sum);
    step = (step >> 8) + (sum >> 8);
  }
  last_ms_ = timestamp_ms(last_);
  return last_;
}

Bytes Generator::next() {
  uint64_t ms = clock_();
  // Same millisecond (or the clock stepped back): keep the last time, add one.
  if (ms <= last_ms_ && last_ms_ != 0) return advance(last_, 1);
  Bytes b{};
  for (int i = 5; i >= 0; --i) {
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(ms & 0xff);
    ms >>= 8;
  }
  random_(b.data() + 6, 10);
  last_ = b;
  last_ms_ = timestamp_ms(b);
  return b;
}

Bytes Generator::next_after(const Bytes& floor) {
  Bytes b = next();
  if (b > floor) return b;  // big-endian bytes compare in id order
  // Above the floor by a random step: the generator that issued the floor goes on
  // counting up from it, and this one must not walk into the ids it will issue.
  uint8_t r[5];
  random_(r, sizeof r);
  uint64_t step = 1;
  for (size_t i = 0; i < sizeof r; ++i) step += static_cast<uint64_t>(r[i]) << (8 * i);
  return advance(floor, step);
}

std::string Generator::next_id(std::string_view prefix) {
  std::string id(prefix);
  id += '_';
  id += encode(next());
  return id;
}

std::optional<uint64_t> id_timestamp_ms(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 27 || id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '_')
    return std::nullopt;
  // Ids are issued uppercase; lowercase and aliases are not accepted in ids.
  auto b = decode_with(kCanonical, id.substr(prefix.size() + 1));
  if (!b) return std::nullopt;
  return timestamp_ms(*b);
}

bool is_id(std::string_view id, std::string_view prefix) { return id_timestamp_ms(id, prefix).has_value(); }

}  // namespace sk::ulid
