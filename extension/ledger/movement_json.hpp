// The movement object's one renderer (sk.movement_json in SQL). PostgreSQL-level: call
// inside pg::catching.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "access/htup.h"
}

namespace sk::ledger {

// The movement object of a row of sk.movements (`desc` its row type), as a palloc'd text.
text* movement_json(TupleDesc desc, HeapTuple tuple);

}  // namespace sk::ledger
