// The extension's settings (GUCs), defined once at load.
#pragma once

namespace sk::settings {

void define();
const char* idempotency_retention();  // an interval, e.g. "30d"

}  // namespace sk::settings
