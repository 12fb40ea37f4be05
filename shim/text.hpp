#pragma once
#include <string_view>

namespace sk::shim {

// True for well-formed UTF-8 without NUL. PostgreSQL refuses anything else in a text
// parameter with a server error, which would surface as a 500 for the client's mistake.
bool valid_text(std::string_view s);

}  // namespace sk::shim
