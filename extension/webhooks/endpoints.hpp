// Webhook routes (appendix A): endpoints, secret rotation, test pings, the delivery
// log, retries of dead letters and replays.
#pragma once
#include <vector>

#include "platform/api.hpp"

namespace sk::webhooks {

std::vector<api::Route> webhook_routes();

}  // namespace sk::webhooks
