#include "pg/spi.hpp"

#include <unordered_map>

#include "pg/postgres.hpp"

namespace sk::pg {
namespace {

// Plans live for the backend: prepared once, reused by every request.
std::unordered_map<std::string, SPIPlanPtr>& plan_cache() {
  static std::unordered_map<std::string, SPIPlanPtr> cache;
  return cache;
}

[[noreturn]] void throw_current_error(MemoryContext cxt) {
  MemoryContextSwitchTo(cxt);
  ErrorData* edata = CopyErrorData();
  FlushErrorState();
  throw PgError(unpack_sql_state(edata->sqlerrcode),
                edata->message ? edata->message : "error",
                edata->constraint_name ? edata->constraint_name : "", edata);
}

// The PG_TRY blocks below hold only trivially destructible locals, so a longjmp out
// of SPI skips no destructor; the catch turns the error into a C++ exception.
SPIPlanPtr prepare(const std::string& sql, int nargs) {
  auto& cache = plan_cache();
  auto it = cache.find(sql);
  if (it != cache.end()) return it->second;
  std::vector<Oid> types(static_cast<size_t>(nargs) + 1, TEXTOID);
  MemoryContext cxt = CurrentMemoryContext;
  SPIPlanPtr volatile plan = nullptr;
  volatile bool failed = false;
  PG_TRY();
  {
    plan = SPI_prepare(sql.c_str(), nargs, types.data());
    if (plan == nullptr) elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    SPI_keepplan(plan);
  }
  PG_CATCH();
  {
    failed = true;
  }
  PG_END_TRY();
  if (failed) throw_current_error(cxt);
  cache.emplace(sql, plan);
  return plan;
}

}  // namespace

namespace {

void append_array_element(std::string& out, const std::string& v) {
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (const auto& v : values) {
    if (out.size() > 1) out += ',';
    append_array_element(out, v);
  }
  return out + "}";
}

ArrayColumns::ArrayColumns(size_t width) : literals_(width, "{") {}

void ArrayColumns::add(const std::vector<Text>& row) {
  for (size_t c = 0; c < literals_.size(); ++c) {
    std::string& out = literals_[c];
    if (rows_) out += ',';
    if (row.at(c)) append_array_element(out, *row[c]);
    else out += "NULL";
  }
  ++rows_;
}

std::vector<Text> ArrayColumns::finish() {
  std::vector<Text> out;
  for (auto& literal : literals_) out.emplace_back(std::move(literal += '}'));
  return out;
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
    static const std::string any = "= ANY ($", cast = "::text[])";
    std::string& out = it->second;
    out = sql;
    size_t at = out.find(any), close = at == std::string::npos ? at : out.find(cast, at);
    if (close == std::string::npos) throw std::logic_error("pg::exec_ids: no = ANY ($n::text[]) in the statement");
    out.replace(at, close + cast.size() - at, "= " + out.substr(at + any.size() - 1, close - (at + any.size() - 1)));
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

Result exec(const std::string& sql, const std::vector<Text>& params) {
  const int nargs = static_cast<int>(params.size());
  SPIPlanPtr plan = prepare(sql, nargs);

  std::vector<Datum> values(params.size() + 1, 0);
  std::vector<char> nulls(params.size() + 1, ' ');
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i]) values[i] = text_datum(*params[i]);
    else nulls[i] = 'n';
  }

  // Inside PG_TRY only PostgreSQL calls and plain pointers: no C++ object is created
  // there and nothing C++ can throw, so neither a longjmp nor an exception crosses it.
  MemoryContext cxt = CurrentMemoryContext;
  volatile int rc = 0;
  char** volatile cells = nullptr;
  volatile uint64 nrows = 0;
  volatile int ncols = 0;
  volatile bool failed = false;
  PG_TRY();
  {
    rc = SPI_execute_plan(plan, values.data(), nulls.data(), false, 0);
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
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i]) pfree(DatumGetPointer(values[i]));
  if (failed) throw_current_error(cxt);
  if (rc < 0) throw std::runtime_error(std::string("SPI_execute_plan: ") + SPI_result_code_string(rc));

  Result result;
  result.processed = SPI_processed;
  if (cells) {
    result.rows.resize(nrows);
    for (uint64 r = 0; r < nrows; ++r) {
      auto& cols = result.rows[r].cols;
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
  }
  return result;
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
