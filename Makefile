# SK Inventory: the PostgreSQL extension (PGXS, C++) and the operator targets.
#   make            build the extension          make install   install it (PGXS)
#   make run        local cluster + shim on :8080 make test      the whole suite
#   make bench      benchmarks                    make stop/psql the local cluster
#   make bench-instructions  instructions per API call (callgrind), to compare versions
#   make openapi    regenerate docs/openapi.json

EXTENSION   = sk_inventory
MODULE_big  = sk_inventory
DATA        = $(wildcard sql/sk_inventory--*.sql)
SOURCES     = $(sort $(wildcard extension/*.cpp extension/*/*.cpp))
OBJS        = $(SOURCES:.cpp=.o)
PG_CONFIG  ?= pg_config

PG_CPPFLAGS = -Iextension
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-register
SHLIB_LINK  = -lstdc++ -lcrypto -lcurl

# PGXS would also compile every source to LLVM bitcode for JIT inlining. Inlining
# C++ entry points through the JIT buys nothing here and needs clang to match g++'s
# view of the headers, so the bitcode step is switched off.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
else
all:
	@echo "pg_config not found: run scripts/install-deps.sh first" >&2; exit 1
endif

# PGXS compiles .cpp with CXX and these flags; C flags such as
# -Wmissing-prototypes and -Wdeclaration-after-statement do not apply to C++.
override CXXFLAGS := $(filter-out -Wmissing-prototypes -Wdeclaration-after-statement,$(CXXFLAGS))

$(OBJS): $(wildcard extension/*.hpp extension/*/*.hpp)

.PHONY: deps shim run test bench bench-instructions stop psql openapi

deps:
	@scripts/install-deps.sh

shim:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j2

run: deps
	@scripts/run.sh

test: deps
	@scripts/test.sh

bench: deps
	@scripts/bench.sh

# Instructions per API call inside PostgreSQL (callgrind): stable where timings are not.
bench-instructions:
	@scripts/install-deps.sh --valgrind
	@bench/instructions.sh

stop:
	@scripts/cluster.sh stop

psql:
	@scripts/cluster.sh psql

openapi:
	@scripts/openapi.sh
