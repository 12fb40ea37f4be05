// PostgreSQL's C headers, included once with C linkage for the C++ sources.
#pragma once
// The C++ standard headers come first: PostgreSQL's port.h turns snprintf and friends
// into macros that would otherwise rewrite the library's own std:: declarations.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
}

// PostgreSQL's c.h defines these as macros; they collide with the C++ standard library.
// From here on our code calls the C library directly.
#undef vsnprintf
#undef snprintf
#undef vsprintf
#undef sprintf
#undef vfprintf
#undef fprintf
#undef vprintf
#undef printf
#undef strerror

#ifdef Min
#undef Min
#endif
#ifdef Max
#undef Max
#endif
