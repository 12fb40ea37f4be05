// docs/index.html, embedded at build time (CMake generates the definition from the
// checked-in file), so the shim serves /docs without reading files at runtime.
#pragma once
#include <cstddef>

namespace sk::shim {

extern const char kDocsHtml[];
extern const size_t kDocsHtmlSize;

}  // namespace sk::shim
