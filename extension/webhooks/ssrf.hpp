// SSRF policy for webhook targets: live-mode endpoints must reach public addresses
// unless an operator allow-list (sk.webhook_allowed_cidrs) says otherwise. Pure C++.
#pragma once
#include <optional>
#include <string>
#include <sys/socket.h>
#include <vector>

namespace sk::webhooks {

struct Cidr {
  int family;              // AF_INET or AF_INET6
  unsigned char addr[16];
  int prefix;
};

// "10.0.0.0/8, 127.0.0.1/32, fd00::/8"; nullopt on a malformed element.
std::optional<std::vector<Cidr>> parse_cidrs(const std::string& text);

// Loopback, private, link-local, unique-local, unspecified, CGNAT, multicast and the
// cloud metadata address are not public.
bool is_public(const sockaddr* addr);
bool allowed(const sockaddr* addr, const std::vector<Cidr>& allow_list);

// Checks every address `host` resolves to; returns a reason when one is refused.
std::optional<std::string> check_host(const std::string& host, const std::vector<Cidr>& allow_list);

}  // namespace sk::webhooks
