// The pure parts of sk-shim: rate limiting, metrics labels and exposition, problem
// documents and the text check applied before sk.invoke().
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "metrics.hpp"
#include "problem.hpp"
#include "rate_limit.hpp"
#include "text.hpp"

using namespace sk::shim;
using std::chrono::milliseconds;

namespace {
const RateLimiter::Clock::time_point t0 = RateLimiter::Clock::time_point() + std::chrono::hours(1);

size_t count_lines_starting(const std::string& text, const std::string& prefix) {
  size_t n = 0, pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (text.compare(pos, prefix.size(), prefix) == 0) ++n;
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return n;
}
}  // namespace

// ---- bearer tokens ----------------------------------------------------------------

TEST(BearerToken, ExtractsTheToken) {
  EXPECT_EQ(bearer_token("Bearer sk_test_abc"), "sk_test_abc");
  EXPECT_EQ(bearer_token("bearer sk_test_abc"), "sk_test_abc");
  EXPECT_EQ(bearer_token("BEARER   sk_test_abc  "), "sk_test_abc");
}

TEST(BearerToken, IgnoresOtherSchemesAndEmptyTokens) {
  EXPECT_FALSE(bearer_token(nullptr));
  EXPECT_FALSE(bearer_token(""));
  EXPECT_FALSE(bearer_token("Bearer"));
  EXPECT_FALSE(bearer_token("Bearer "));
  EXPECT_FALSE(bearer_token("Bearer    "));
  EXPECT_FALSE(bearer_token("Basic dXNlcjpwYXNz"));
  EXPECT_FALSE(bearer_token("Bearersk_test_abc"));
  EXPECT_FALSE(bearer_token("sk_test_abc"));
}

// ---- rate limiting ----------------------------------------------------------------

TEST(RateLimiter, BurstEqualsTheRateThenRefuses) {
  RateLimiter rl(5, 100);
  for (long i = 0; i < 5; ++i) {
    RateDecision d = rl.take("k", t0);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 4 - i);
    EXPECT_EQ(d.reset_s, 1);
  }
  RateDecision refused = rl.take("k", t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after_s, 1);
  EXPECT_EQ(refused.reset_s, 1);
}

TEST(RateLimiter, RefillsAtTheRate) {
  RateLimiter rl(5, 100);
  for (int i = 0; i < 5; ++i) rl.take("k", t0);
  EXPECT_FALSE(rl.take("k", t0 + milliseconds(199)).allowed);
  EXPECT_TRUE(rl.take("k", t0 + milliseconds(200)).allowed);  // one token per 200 ms
  EXPECT_FALSE(rl.take("k", t0 + milliseconds(201)).allowed);
  RateDecision d = rl.take("k", t0 + milliseconds(1400));  // 1.2 s later: full again (capped at 5)
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 4);
}

TEST(RateLimiter, KeysHaveSeparateBuckets) {
  RateLimiter rl(2, 100);
  rl.take("a", t0);
  rl.take("a", t0);
  EXPECT_FALSE(rl.take("a", t0).allowed);
  EXPECT_TRUE(rl.take("b", t0).allowed);
}

TEST(RateLimiter, RetryAfterIsWholeSecondsAtLeastOne) {
  RateLimiter slow(0.25, 100);  // one request every 4 s; burst rounds up to one request
  EXPECT_TRUE(slow.take("k", t0).allowed);
  RateDecision d = slow.take("k", t0 + milliseconds(500));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_s, 4);  // 3.5 s rounded up
  EXPECT_EQ(d.reset_s, 4);
  RateLimiter fast(1000, 100);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(fast.take("k", t0).allowed);
  RateDecision f = fast.take("k", t0);
  EXPECT_FALSE(f.allowed);
  EXPECT_EQ(f.retry_after_s, 1);  // 1 ms rounded up to the minimum
}

TEST(RateLimiter, ZeroDisables) {
  RateLimiter rl(0, 100);
  EXPECT_FALSE(rl.enabled());
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(rl.take("k", t0).allowed);
  EXPECT_EQ(rl.tracked_keys(), 0u);
}

TEST(RateLimiter, Headers) {
  RateLimiter rl(1000, 100);
  EXPECT_EQ(rl.policy_header(), "\"default\";q=1000;w=1");
  RateDecision d = rl.take("k", t0);
  EXPECT_EQ(RateLimiter::limit_header(d), "\"default\";r=999;t=1");
}

TEST(RateLimiter, IdleBucketsAreEvicted) {
  RateLimiter rl(10, 1000);
  for (int i = 0; i < 100; ++i) rl.take("key" + std::to_string(i), t0);
  EXPECT_EQ(rl.tracked_keys(), 100u);
  // 1.1 s later every bucket has refilled, so the sweep drops them all.
  rl.take("fresh", t0 + milliseconds(1100));
  EXPECT_EQ(rl.tracked_keys(), 1u);
}

TEST(RateLimiter, TableNeverExceedsItsBound) {
  RateLimiter rl(10, 50);
  for (int i = 0; i < 500; ++i) rl.take("key" + std::to_string(i), t0);
  EXPECT_EQ(rl.tracked_keys(), 50u);
}

// ---- metrics ----------------------------------------------------------------------

TEST(MetricsRouteLabel, ReplacesIdSegments) {
  EXPECT_EQ(route_label("/inventory/v1/items/itm_01ARYZ6S41TSV4RRFFQ69G5FAV"), "/inventory/v1/items/{id}");
  EXPECT_EQ(route_label("/inventory/v1/items/itm_01ARYZ6S41TSV4RRFFQ69G5FAV/stock"), "/inventory/v1/items/{id}/stock");
  EXPECT_EQ(route_label("/inventory/v1/webhook_endpoints/we_01ARYZ6S41TSV4RRFFQ69G5FAV/deliveries"),
            "/inventory/v1/webhook_endpoints/{id}/deliveries");
  EXPECT_EQ(route_label("/inventory/v1/movements/batch"), "/inventory/v1/movements/batch");
  EXPECT_EQ(route_label("/inventory/v1/webhook_endpoints"), "/inventory/v1/webhook_endpoints");
  EXPECT_EQ(route_label("/inventory/v1/items/"), "/inventory/v1/items/");
  EXPECT_EQ(route_label(""), "");
  EXPECT_EQ(route_label("/"), "/");
}

TEST(MetricsRouteLabel, OnlyIdShapedSegments) {
  EXPECT_EQ(route_label("/x/itm_01ARYZ6S41TSV4RRFFQ69G5FA"), "/x/itm_01ARYZ6S41TSV4RRFFQ69G5FA");    // 25
  EXPECT_EQ(route_label("/x/ITM_01ARYZ6S41TSV4RRFFQ69G5FAV"), "/x/ITM_01ARYZ6S41TSV4RRFFQ69G5FAV");  // prefix case
  EXPECT_EQ(route_label("/x/_01ARYZ6S41TSV4RRFFQ69G5FAVV"), "/x/_01ARYZ6S41TSV4RRFFQ69G5FAVV");
  EXPECT_EQ(route_label("/x/itm_01ARYZ6S41TSV4RRFFQ69G5FA-"), "/x/itm_01ARYZ6S41TSV4RRFFQ69G5FA-");
  EXPECT_EQ(route_label("/x/itm_01aryz6s41tsv4rrffq69g5fav"), "/x/{id}");  // mistyped ids still collapse
}

TEST(MetricsMethodLabel, UnknownMethodsCollapse) {
  EXPECT_EQ(method_label("GET"), "GET");
  EXPECT_EQ(method_label("PATCH"), "PATCH");
  EXPECT_EQ(method_label("get"), "OTHER");
  EXPECT_EQ(method_label("BREW"), "OTHER");
}

TEST(Metrics, CountersHistogramAndGauges) {
  Metrics m;
  m.observe("/healthz", "GET", 200, 0.0005);
  m.observe("/healthz", "GET", 200, 0.003);
  m.observe("/healthz", "GET", 503, 20);
  m.count_replay();
  std::string text = m.render({{"sk_db_pool_size", "Pool size.", 8}, {"sk_db_pool_in_use", "In use.", 3}});

  EXPECT_NE(text.find("# TYPE sk_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("sk_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("sk_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"503\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE sk_http_request_duration_seconds histogram\n"), std::string::npos);
  const std::string h = "sk_http_request_duration_seconds_bucket{route=\"/healthz\",method=\"GET\",";
  EXPECT_NE(text.find(h + "le=\"0.001\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find(h + "le=\"0.0025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find(h + "le=\"0.005\"} 2\n"), std::string::npos);  // cumulative
  EXPECT_NE(text.find(h + "le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find(h + "le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_EQ(count_lines_starting(text, h), Metrics::kBuckets.size() + 1);
  EXPECT_NE(text.find("sk_http_request_duration_seconds_count{route=\"/healthz\",method=\"GET\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("sk_http_request_duration_seconds_sum{route=\"/healthz\",method=\"GET\"} 20.0035\n"),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE sk_idempotent_replays_total counter\nsk_idempotent_replays_total 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("# HELP sk_db_pool_size Pool size.\n# TYPE sk_db_pool_size gauge\nsk_db_pool_size 8\n"),
            std::string::npos);
  EXPECT_NE(text.find("sk_db_pool_in_use 3\n"), std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) {
  Metrics m;
  m.observe("/a\"b\\c\nd", "GET", 404, 0.1);
  EXPECT_NE(m.render({}).find("route=\"/a\\\"b\\\\c\\nd\""), std::string::npos);
}

TEST(Metrics, RouteCardinalityIsBounded) {
  Metrics m(3);
  for (int i = 0; i < 10; ++i) m.observe("/r" + std::to_string(i), "GET", 404, 0.001);
  m.observe("/r1", "GET", 200, 0.001);  // known routes keep their label
  std::string text = m.render({});
  EXPECT_EQ(count_lines_starting(text, "sk_http_requests_total{"), 5u);
  EXPECT_NE(text.find("sk_http_requests_total{route=\"{other}\",method=\"GET\",status=\"404\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("sk_http_requests_total{route=\"/r1\",method=\"GET\",status=\"200\"} 1\n"), std::string::npos);
}

// ---- problem documents ------------------------------------------------------------

TEST(Problem, ExactShapeAndKeyOrder) {
  EXPECT_EQ(problem_json(413, "request_too_large", "The request body exceeds the limit.", "req_X"),
            R"({"type":"https://docs.softknack.com/inventory/errors/request_too_large","title":"Content Too Large",)"
            R"("status":413,"detail":"The request body exceeds the limit.","code":"request_too_large",)"
            R"("param":null,"request_id":"req_X"})");
}

TEST(Problem, TitlesAndEscaping) {
  auto j = nlohmann::json::parse(problem_json(429, "rate_limited", "Say \"when\"\n", "req_1"));
  EXPECT_EQ(j["title"], "Too Many Requests");
  EXPECT_EQ(j["detail"], "Say \"when\"\n");
  EXPECT_EQ(nlohmann::json::parse(problem_json(503, "request_timeout", "d", "r"))["title"], "Service Unavailable");
  EXPECT_EQ(nlohmann::json::parse(problem_json(500, "internal_error", "d", "r"))["title"], "Internal Server Error");
  EXPECT_EQ(nlohmann::json::parse(problem_json(404, "route_not_found", "d", "r"))["title"], "Not Found");
  EXPECT_EQ(nlohmann::json::parse(problem_json(405, "method_not_allowed", "d", "r"))["title"], "Method Not Allowed");
  EXPECT_STREQ(reason_phrase(299), "Error");
}

TEST(Problem, InvalidUtf8InDetailDoesNotThrow) {
  // A detail may quote a client's path; it must never make the error path fail.
  std::string out = problem_json(404, "route_not_found", "No route matches /\xff.", "req_1");
  EXPECT_NE(out.find("\"status\":404"), std::string::npos);
}

// ---- text check before sk.invoke() ------------------------------------------------

TEST(ValidText, Utf8WithoutNul) {
  EXPECT_TRUE(valid_text(""));
  EXPECT_TRUE(valid_text("{\"a\":1}"));
  EXPECT_TRUE(valid_text("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(valid_text(std::string("a\0b", 3)));
  EXPECT_FALSE(valid_text("\xff"));
  EXPECT_FALSE(valid_text("\xC3"));              // truncated
  EXPECT_FALSE(valid_text("\xE2\x82"));          // truncated
  EXPECT_FALSE(valid_text("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_text("\xE0\x80\xAF"));      // overlong '/'
  EXPECT_FALSE(valid_text("\xED\xA0\x80"));      // UTF-16 surrogate
  EXPECT_FALSE(valid_text("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(valid_text("\x80"));              // lone continuation byte
  EXPECT_FALSE(valid_text("\xC3(\x41"));         // bad continuation
}
