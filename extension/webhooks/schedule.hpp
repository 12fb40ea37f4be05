// The fixed retry schedule (sk.webhook_retry_schedule), e.g. "5s,5min,30min,2h,5h,10h,10h":
// the delays before the 2nd, 3rd, … attempts. Pure C++.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace sk::webhooks {

// Delays in milliseconds; nullopt if any element is not <number><unit> with unit
// ms, s, min, h or d.
std::optional<std::vector<long long>> parse_schedule(const std::string& text);

}  // namespace sk::webhooks
