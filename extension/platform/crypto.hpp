// Hashing and randomness from OpenSSL. Pure C++ (shared with the unit tests).
#pragma once
#include <string>
#include <string_view>

namespace sk::crypto {

std::string sha256_hex(std::string_view data);
// `n` characters from [0-9A-Za-z], uniformly distributed (rejection sampling).
std::string random_base62(size_t n);

}  // namespace sk::crypto
