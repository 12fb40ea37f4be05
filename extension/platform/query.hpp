// Query strings: percent-decoding into name/value pairs. Pure C++.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sk::query {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Decodes "a=1&b=x%20y"; nullopt (with `bad` set to the parameter name) on invalid
// percent-encoding.
std::optional<Pairs> parse(const std::string& raw, std::string* bad = nullptr);

}  // namespace sk::query
