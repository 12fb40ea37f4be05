// The webhook gauges of /metrics: sk.metrics()'s document rendered as Prometheus text,
// and nothing at all when the document is not what the shim expects.
#include <gtest/gtest.h>

#include <string>

#include "metrics.hpp"

using sk::shim::render_webhook_metrics;

TEST(WebhookMetrics, RendersTheThreeGaugesWithTheirTypes) {
  std::string text = render_webhook_metrics(
      R"({"webhook_queue_depth":3,"webhook_dead_letters":1,"webhook_attempts":{"succeeded":10,"retrying":4,"dead":2}})");
  EXPECT_EQ(text,
            "# HELP sk_webhook_queue_depth Webhook deliveries waiting to be sent (pending or retrying).\n"
            "# TYPE sk_webhook_queue_depth gauge\n"
            "sk_webhook_queue_depth 3\n"
            "# HELP sk_webhook_attempts Webhook delivery attempts in the attempt log, by outcome.\n"
            "# TYPE sk_webhook_attempts gauge\n"
            "sk_webhook_attempts{outcome=\"succeeded\"} 10\n"
            "sk_webhook_attempts{outcome=\"retrying\"} 4\n"
            "sk_webhook_attempts{outcome=\"dead\"} 2\n"
            "# HELP sk_webhook_dead_letters Webhook deliveries in the dead-letter state (replayable).\n"
            "# TYPE sk_webhook_dead_letters gauge\n"
            "sk_webhook_dead_letters 1\n");
}

TEST(WebhookMetrics, AnUnexpectedDocumentRendersNothing) {
  EXPECT_EQ(render_webhook_metrics(""), "");
  EXPECT_EQ(render_webhook_metrics("not json"), "");
  EXPECT_EQ(render_webhook_metrics("[]"), "");
  EXPECT_EQ(render_webhook_metrics(R"({"webhook_queue_depth":1})"), "");
  EXPECT_EQ(render_webhook_metrics(
                R"({"webhook_queue_depth":-1,"webhook_dead_letters":0,"webhook_attempts":{"succeeded":0,"retrying":0,"dead":0}})"),
            "")
      << "counts are never negative";
  EXPECT_EQ(render_webhook_metrics(
                R"({"webhook_queue_depth":1,"webhook_dead_letters":0,"webhook_attempts":{"succeeded":0,"retrying":0}})"),
            "")
      << "a missing outcome";
}
