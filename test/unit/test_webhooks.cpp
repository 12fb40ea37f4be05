// Webhook building blocks that need no network: Standard Webhooks signatures, the retry
// schedule parser and the SSRF address policy.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

#include "webhooks/schedule.hpp"
#include "webhooks/signing.hpp"
#include "webhooks/ssrf.hpp"

namespace wh = sk::webhooks;

TEST(Signing, MatchesTheStandardWebhooksReferenceVector) {
  // The example of the Standard Webhooks specification's reference libraries.
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const long long ts = 1614265330;
  const std::string body = R"({"test": 2432232314})";
  EXPECT_EQ(wh::sign(secret, id, ts, body).value(), "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Signing, HeaderCarriesOneSignaturePerSecretSpaceSeparated) {
  auto a = wh::new_secret(), b = wh::new_secret();
  std::string header = wh::signature_header({a, b}, "evt_1", 1700000000, "{}");
  auto space = header.find(' ');
  ASSERT_NE(space, std::string::npos);
  EXPECT_EQ(header.substr(0, space), wh::sign(a, "evt_1", 1700000000, "{}").value());
  EXPECT_EQ(header.substr(space + 1), wh::sign(b, "evt_1", 1700000000, "{}").value());
}

TEST(Signing, SecretsAreWhsecAndThirtyTwoRandomBytes) {
  auto s1 = wh::new_secret(), s2 = wh::new_secret();
  EXPECT_NE(s1, s2);
  ASSERT_EQ(s1.rfind("whsec_", 0), 0u);
  EXPECT_EQ(wh::base64_decode(s1.substr(6)).value().size(), 32u);
}

TEST(Signing, RejectsMalformedSecrets) {
  EXPECT_FALSE(wh::sign("sk_test_x", "id", 1, "{}").has_value());
  EXPECT_FALSE(wh::sign("whsec_***", "id", 1, "{}").has_value());
}

TEST(Signing, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    if (n > 0) {
      EXPECT_EQ(wh::base64_decode(wh::base64_encode(bytes)).value(), bytes) << n;
    }
    bytes += static_cast<char>(n * 37);
  }
}

TEST(Schedule, ParsesTheDefault) {
  auto s = wh::parse_schedule("5s,5min,30min,2h,5h,10h,10h").value();
  std::vector<long long> want = {5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000};
  EXPECT_EQ(s, want);
}

TEST(Schedule, AcceptsSpacesAndMilliseconds) {
  EXPECT_EQ(wh::parse_schedule(" 300ms, 1 s ,2d").value(), (std::vector<long long>{300, 1000, 172800000}));
}

TEST(Schedule, RejectsMalformedElements) {
  for (const char* bad : {"", "5", "5 sec", "5s,,5s", "-1s", "1.5s", "5s;5min"}) EXPECT_FALSE(wh::parse_schedule(bad)) << bad;
}

namespace {
sockaddr_storage addr(const char* text) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) v4->sin_family = AF_INET;
  else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) v6->sin6_family = AF_INET6;
  return ss;
}
bool is_public(const char* text) {
  auto ss = addr(text);
  return wh::is_public(reinterpret_cast<sockaddr*>(&ss));
}
}  // namespace

TEST(Ssrf, PrivateLoopbackLinkLocalAndMetadataAreNotPublic) {
  for (const char* a : {"127.0.0.1", "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                        "0.0.0.0", "100.64.0.1", "224.0.0.1", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1"})
    EXPECT_FALSE(is_public(a)) << a;
  for (const char* a : {"8.8.8.8", "172.32.0.1", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"})
    EXPECT_TRUE(is_public(a)) << a;
}

TEST(Ssrf, AllowListAdmitsPrivateBlocks) {
  auto list = wh::parse_cidrs("10.1.0.0/16, 127.0.0.1/32, fd00::/8").value();
  auto allowed = [&](const char* text) {
    auto ss = addr(text);
    return wh::allowed(reinterpret_cast<sockaddr*>(&ss), list);
  };
  EXPECT_TRUE(allowed("10.1.200.3"));
  EXPECT_FALSE(allowed("10.2.0.1"));
  EXPECT_TRUE(allowed("127.0.0.1"));
  EXPECT_FALSE(allowed("127.0.0.2"));
  EXPECT_TRUE(allowed("fd12::1"));
  EXPECT_FALSE(allowed("fe80::1"));
}

TEST(Ssrf, RejectsMalformedCidrs) {
  EXPECT_FALSE(wh::parse_cidrs("10.0.0.0/33"));
  EXPECT_FALSE(wh::parse_cidrs("not-an-ip"));
  EXPECT_FALSE(wh::parse_cidrs("10.0.0.0/x"));
  EXPECT_TRUE(wh::parse_cidrs("").value().empty());
}

TEST(Ssrf, CheckHostRefusesLoopbackNames) {
  EXPECT_TRUE(wh::check_host("localhost", {}).has_value());
  EXPECT_TRUE(wh::check_host("127.0.0.1", {}).has_value());
  EXPECT_FALSE(wh::check_host("127.0.0.1", wh::parse_cidrs("127.0.0.0/8").value()).has_value());
}
