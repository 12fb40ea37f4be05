#include "webhooks/ssrf.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

namespace sk::webhooks {
namespace {

bool in_cidr(const unsigned char* addr, const Cidr& c) {
  int full = c.prefix / 8, rest = c.prefix % 8;
  if (std::memcmp(addr, c.addr, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (addr[full] & mask) == (c.addr[full] & mask);
}

bool v4_public(const unsigned char* a) {
  if (a[0] == 0 || a[0] == 10 || a[0] == 127) return false;              // this-net, private, loopback
  if (a[0] == 169 && a[1] == 254) return false;                           // link-local and 169.254.169.254
  if (a[0] == 172 && (a[1] & 0xF0) == 16) return false;                   // 172.16/12
  if (a[0] == 192 && a[1] == 168) return false;                           // 192.168/16
  if (a[0] == 100 && (a[1] & 0xC0) == 64) return false;                   // CGNAT 100.64/10
  if (a[0] == 192 && a[1] == 0 && a[2] == 0) return false;                // IETF protocol assignments
  if (a[0] >= 224) return false;                                          // multicast, reserved, broadcast
  return true;
}

}  // namespace

std::optional<std::vector<Cidr>> parse_cidrs(const std::string& text) {
  std::vector<Cidr> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string part = text.substr(start, end - start);
    start = end + 1;
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    if (part.empty()) continue;
    size_t slash = part.find('/');
    std::string ip = part.substr(0, slash);
    Cidr c{};
    if (inet_pton(AF_INET, ip.c_str(), c.addr) == 1) c.family = AF_INET;
    else if (inet_pton(AF_INET6, ip.c_str(), c.addr) == 1) c.family = AF_INET6;
    else return std::nullopt;
    int max = c.family == AF_INET ? 32 : 128;
    c.prefix = max;
    if (slash != std::string::npos) {
      std::string p = part.substr(slash + 1);
      if (p.empty() || p.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
      c.prefix = std::stoi(p);
      if (c.prefix > max) return std::nullopt;
    }
    out.push_back(c);
  }
  return out;
}

bool is_public(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    return v4_public(reinterpret_cast<const unsigned char*>(&in->sin_addr));
  }
  if (addr->sa_family == AF_INET6) {
    const unsigned char* a = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr;
    static const unsigned char zero[16] = {0};
    if (std::memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1)) return false;  // :: and ::1
    if (std::memcmp(a, zero, 10) == 0 && a[10] == 0xFF && a[11] == 0xFF) return v4_public(a + 12);  // v4-mapped
    if ((a[0] & 0xFE) == 0xFC) return false;                       // fc00::/7 unique local
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) return false;       // fe80::/10 link-local
    if (a[0] == 0xFF) return false;                                // multicast
    return true;
  }
  return false;
}

bool allowed(const sockaddr* addr, const std::vector<Cidr>& allow_list) {
  if (is_public(addr)) return true;
  for (const auto& c : allow_list) {
    if (addr->sa_family == AF_INET && c.family == AF_INET &&
        in_cidr(reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in*>(addr)->sin_addr), c))
      return true;
    if (addr->sa_family == AF_INET6 && c.family == AF_INET6 &&
        in_cidr(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr, c))
      return true;
  }
  return false;
}

std::optional<std::string> check_host(const std::string& host, const std::vector<Cidr>& allow_list) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return "the host name does not resolve";
  std::optional<std::string> reason;
  for (addrinfo* ai = res; ai && !reason; ai = ai->ai_next)
    if (!allowed(ai->ai_addr, allow_list)) reason = "the host resolves to a private, loopback or link-local address";
  freeaddrinfo(res);
  return reason;
}

}  // namespace sk::webhooks
