#include "pg/spi.hpp"

#include <unordered_map>

#include "pg/catching.hpp"

namespace sk::pg {

void throw_current_error(MemoryContext cxt) {
  MemoryContextSwitchTo(cxt);
  ErrorData* edata = CopyErrorData();
  FlushErrorState();
  throw PgError(unpack_sql_state(edata->sqlerrcode), edata->message ? edata->message : "error",
                edata->constraint_name ? edata->constraint_name : "", edata);
}

namespace {

// Plans live for the backend: prepared once, reused by every request.
std::unordered_map<std::string, SPIPlanPtr>& plan_cache() {
  static std::unordered_map<std::string, SPIPlanPtr> cache;
  return cache;
}

// API statements (any backend but the webhook worker) are keyed lookups of one tenant's
// rows, whose best plan does not depend on the values: a generic plan, always. The
// default would re-plan some on every call. The worker's set-based statements over its
// queue are planned for the queue as it is at each call: a generic plan cached while the
// queue was empty (and vacuumed so) joined a burst of 10,000 deliveries by scanning all of
// them for each one claimed, 1 s per batch of 500. (A per-plan option, where SET
// plan_cache_mode on sk.invoke set and restored a setting on every call.)
int plan_options() { return IsBackgroundWorker ? CURSOR_OPT_CUSTOM_PLAN : CURSOR_OPT_GENERIC_PLAN; }

// All `nargs` parameters are text. The PG_TRY block holds only trivially destructible
// locals, so a longjmp out of SPI skips no destructor; the catch turns the error into a
// C++ exception.
SPIPlanPtr prepare(const std::string& sql, int nargs) {
  if (auto it = plan_cache().find(sql); it != plan_cache().end()) return it->second;
  std::vector<Oid> argtypes(static_cast<size_t>(nargs) + 1, TEXTOID);  // never empty: data() may be null
  MemoryContext cxt = CurrentMemoryContext;
  SPIPlanPtr volatile plan = nullptr;
  volatile bool failed = false;
  PG_TRY();
  {
    plan = SPI_prepare_cursor(sql.c_str(), nargs, argtypes.data(), plan_options());
    if (plan == nullptr) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    SPI_keepplan(plan);
  }
  PG_CATCH();
  {
    failed = true;
  }
  PG_END_TRY();
  if (failed) throw_current_error(cxt);
  plan_cache().emplace(sql, plan);
  return plan;
}

}  // namespace

std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const auto& v : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

namespace {

struct IdList {
  std::string sql;
  std::string param;  // the text[] literal, or the one id
};

IdList id_list(const std::string& sql, const std::vector<std::string>& ids) {
  if (ids.size() != 1) return {sql, text_array(ids)};
  static std::unordered_map<std::string, std::string> scalar;
  auto [it, fresh] = scalar.try_emplace(sql);
  if (fresh) {
    static const std::string any = "= ANY ($1::text[])";
    std::string& out = it->second;
    out = sql;
    if (out.find(any) == std::string::npos) {
      scalar.erase(it);  // or the next call would run the statement unrewritten
      throw std::logic_error("pg::exec_ids: no = ANY ($1::text[]) in the statement");
    }
    for (size_t at = out.find(any); at != std::string::npos; at = out.find(any, at)) out.replace(at, any.size(), "= $1");
  }
  return {it->second, ids[0]};
}

}  // namespace

uintptr_t text_datum(const std::string& s) {
  void* mem = palloc_extended(VARHDRSZ + s.size(), MCXT_ALLOC_NO_OOM);
  if (!mem) throw std::bad_alloc();
  text* t = static_cast<text*>(mem);
  SET_VARSIZE(t, VARHDRSZ + s.size());
  memcpy(VARDATA(t), s.data(), s.size());
  return PointerGetDatum(t);
}

const std::string& Row::text(size_t i) const {
  const Text& t = cols.at(i);
  if (!t) throw std::logic_error("unexpected NULL column");
  return *t;
}

namespace {

bool g_read_only = false;  // a ReadOnlyScope is open

// Runs the plan and copies the rows out as text. Inside PG_TRY only PostgreSQL calls and
// plain pointers: no C++ object is created there and nothing C++ can throw, so neither a
// longjmp nor an exception crosses it.
Result run(SPIPlanPtr plan, std::vector<Datum>& values, std::vector<char>& nulls) {
  MemoryContext cxt = CurrentMemoryContext;
  volatile int rc = 0;
  char** volatile cells = nullptr;
  volatile uint64 nrows = 0;
  volatile int ncols = 0;
  volatile bool failed = false;
  PG_TRY();
  {
    rc = SPI_execute_plan(plan, values.data(), nulls.data(), g_read_only, 0);
    if (rc >= 0 && SPI_tuptable != nullptr) {
      TupleDesc desc = SPI_tuptable->tupdesc;
      nrows = SPI_processed;
      ncols = desc->natts;
      cells = static_cast<char**>(palloc0(sizeof(char*) * (nrows * static_cast<uint64>(ncols) + 1)));
      for (uint64 r = 0; r < nrows; ++r)
        for (int c = 0; c < ncols; ++c)
          cells[r * static_cast<uint64>(ncols) + static_cast<uint64>(c)] = SPI_getvalue(SPI_tuptable->vals[r], desc, c + 1);
      SPI_freetuptable(SPI_tuptable);
    }
  }
  PG_CATCH();
  {
    failed = true;
  }
  PG_END_TRY();
  if (failed) throw_current_error(cxt);
  if (rc < 0) throw std::runtime_error(std::string("SPI_execute_plan: ") + SPI_result_code_string(rc));

  Result result;
  result.processed = SPI_processed;
  if (cells) result.rows = take_rows(cells, nrows, ncols);
  return result;
}

// Frees the text Datums made for the parameters once the statement has run (or failed).
struct TextDatums {
  std::vector<Datum> values;
  std::vector<char> nulls;
  std::vector<size_t> texts;  // positions of the Datums made here
  explicit TextDatums(size_t n) : values(n + 1, 0), nulls(n + 1, ' ') {}
  void set(size_t i, const Text& t) {
    if (!t) {
      nulls[i] = 'n';
      return;
    }
    values[i] = text_datum(*t);
    texts.push_back(i);
  }
  ~TextDatums() {
    for (size_t i : texts) pfree(DatumGetPointer(values[i]));
  }
};

}  // namespace

Result exec(const std::string& sql, const std::vector<Text>& params) {
  SPIPlanPtr plan = prepare(sql, static_cast<int>(params.size()));
  TextDatums d(params.size());
  for (size_t i = 0; i < params.size(); ++i) d.set(i, params[i]);
  return run(plan, d.values, d.nulls);
}

Text exec_value(const std::string& sql, const std::vector<Text>& params) {
  Result r = exec(sql, params);
  if (r.rows.empty() || r.rows[0].cols.empty()) return std::nullopt;
  return r.rows[0].cols[0];
}

Result exec_ids(const std::string& sql, const std::vector<std::string>& ids) {
  IdList q = id_list(sql, ids);
  return exec(q.sql, {q.param});
}

void exec_utility(const std::string& sql) {
  MemoryContext cxt = CurrentMemoryContext;
  volatile int rc = 0;
  volatile bool failed = false;
  PG_TRY();
  {
    rc = SPI_execute(sql.c_str(), false, 0);
  }
  PG_CATCH();
  {
    failed = true;
  }
  PG_END_TRY();
  if (failed) throw_current_error(cxt);
  if (rc < 0) throw std::runtime_error(std::string("SPI_execute: ") + SPI_result_code_string(rc));
}

std::string quote_identifier(const std::string& ident) {
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

SpiSession::SpiSession() {
  if (SPI_connect() != SPI_OK_CONNECT) throw std::runtime_error("SPI_connect failed");
}

SpiSession::~SpiSession() { SPI_finish(); }

ReadOnlyScope::ReadOnlyScope() : outer_(g_read_only) { g_read_only = true; }

ReadOnlyScope::~ReadOnlyScope() { g_read_only = outer_; }

bool ReadOnlyScope::active() { return g_read_only; }

std::vector<Row> take_rows(char** cells, uint64 nrows, int ncols) {
  std::vector<Row> rows(nrows);
  for (uint64 r = 0; r < nrows; ++r) {
    auto& cols = rows[r].cols;
    cols.reserve(static_cast<size_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      char* v = cells[r * static_cast<uint64>(ncols) + static_cast<uint64>(c)];
      if (v) {
        cols.emplace_back(std::string(v));
        pfree(v);
      } else {
        cols.emplace_back(std::nullopt);
      }
    }
  }
  pfree(cells);
  return rows;
}

void in_subtransaction(const std::function<void()>& body) {
  MemoryContext cxt = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(cxt);
  try {
    body();
  } catch (...) {
    // Whatever failed inside (a 4xx decision or a PostgreSQL error already flushed by
    // exec), undo the subtransaction's writes before anyone touches SPI again.
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(cxt);
    CurrentResourceOwner = owner;
    throw;
  }
  ReleaseCurrentSubTransaction();
  MemoryContextSwitchTo(cxt);
  CurrentResourceOwner = owner;
}

}  // namespace sk::pg
