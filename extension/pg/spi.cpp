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

// The PG_TRY blocks below hold only trivially destructible locals, so a longjmp out
// of SPI skips no destructor; the catch turns the error into a C++ exception.
SPIPlanPtr cached_plan(const std::string& sql) {
  auto& cache = plan_cache();
  auto it = cache.find(sql);
  return it == cache.end() ? nullptr : it->second;
}

// API statements (any backend but the webhook worker) are keyed lookups of one tenant's
// rows, whose best plan does not depend on the values: a generic plan, always. The
// default would re-plan some on every call. The worker's set-based statements over its
// queue are planned for the queue as it is at each call: a generic plan cached while the
// queue was empty (and vacuumed so) joined a burst of 10,000 deliveries by scanning all of
// them for each one claimed, 1 s per batch of 500. (A per-plan option, where SET
// plan_cache_mode on sk.invoke set and restored a setting on every call.)
int plan_options() { return IsBackgroundWorker ? CURSOR_OPT_CUSTOM_PLAN : CURSOR_OPT_GENERIC_PLAN; }

// `types` null: all `nargs` parameters are text.
SPIPlanPtr prepare(const std::string& sql, int nargs, const std::vector<Oid>* types) {
  if (SPIPlanPtr cached = cached_plan(sql)) return cached;
  std::vector<Oid> argtypes = types ? *types : std::vector<Oid>(static_cast<size_t>(nargs), TEXTOID);
  argtypes.push_back(TEXTOID);  // never empty: data() of an empty vector may be null
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

ArrayColumns::ArrayColumns(std::vector<const char*> element_types) {
  for (const char* type : element_types) columns_.push_back({type, {}});
}

void ArrayColumns::add(std::vector<Cell> row) {
  if (row.size() != columns_.size()) throw std::logic_error("pg::ArrayColumns: a row of the wrong width");
  for (size_t c = 0; c < columns_.size(); ++c) columns_[c].values.push_back(std::move(row[c]));
}

std::vector<Param> ArrayColumns::finish() {
  std::vector<Param> out;
  for (auto& column : columns_) out.emplace_back(std::move(column));
  columns_.clear();
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

// The types a Binary or an ArrayParam may name: the type and its array type.
struct TypeOids {
  std::string_view name;
  Oid type, array;
};

const TypeOids& type_oids(const char* name) {
  static const TypeOids kTypes[] = {{"text", TEXTOID, TEXTARRAYOID},
                                    {"numeric", NUMERICOID, NUMERICARRAYOID},
                                    {"bigint", INT8OID, INT8ARRAYOID},
                                    {"json", JSONOID, JSONARRAYOID},
                                    {"jsonb", JSONBOID, JSONBARRAYOID},
                                    {"timestamptz", TIMESTAMPTZOID, TIMESTAMPTZARRAYOID}};
  for (const TypeOids& t : kTypes)
    if (t.name == name) return t;
  throw std::logic_error(std::string("pg: unsupported parameter type ") + name);
}

bool g_read_only = false;  // a ReadOnlyScope is open

// An array parameter still to be built: position, element type and values.
struct PendingArray {
  size_t index;
  const TypeOids* type;  // of the elements
  const std::vector<Cell>* values;
};

// Builds the arrays into `values`, runs the plan and copies the rows out as text. Inside
// PG_TRY only PostgreSQL calls, plain pointers and reads of the callers' vectors: no C++
// object is created there and nothing C++ can throw, so neither a longjmp nor an
// exception crosses it.
Result run(SPIPlanPtr plan, std::vector<Datum>& values, std::vector<char>& nulls,
           const std::vector<PendingArray>& arrays) {
  MemoryContext cxt = CurrentMemoryContext;
  volatile int rc = 0;
  char** volatile cells = nullptr;
  volatile uint64 nrows = 0;
  volatile int ncols = 0;
  volatile bool failed = false;
  PG_TRY();
  {
    for (const PendingArray& a : arrays) {
      const int n = static_cast<int>(a.values->size());
      Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * (static_cast<size_t>(n) + 1)));
      bool* elem_nulls = static_cast<bool*>(palloc(sizeof(bool) * (static_cast<size_t>(n) + 1)));
      Oid input, ioparam;
      getTypeInputInfo(a.type->type, &input, &ioparam);
      FmgrInfo flinfo;
      fmgr_info(input, &flinfo);
      int16 typlen;
      bool byval;
      char align;
      get_typlenbyvalalign(a.type->type, &typlen, &byval, &align);
      for (int i = 0; i < n; ++i) {
        const Cell& cell = (*a.values)[static_cast<size_t>(i)];
        const Binary* binary = std::get_if<Binary>(&cell);
        const Text* v = std::get_if<Text>(&cell);
        elem_nulls[i] = !binary && !v->has_value();
        elems[i] = binary ? binary->datum
                   : *v   ? InputFunctionCall(&flinfo, const_cast<char*>((*v)->c_str()), ioparam, -1)
                          : Datum(0);
      }
      int dims[1] = {n}, lbs[1] = {1};
      values[a.index] =
          PointerGetDatum(construct_md_array(elems, elem_nulls, 1, dims, lbs, a.type->type, typlen, byval, align));
    }
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

// Frees the text Datums made for the parameters once the statement has run (or failed);
// arrays stay with the memory context, and Binary values belong to the caller.
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
  SPIPlanPtr plan = prepare(sql, static_cast<int>(params.size()), nullptr);
  TextDatums d(params.size());
  for (size_t i = 0; i < params.size(); ++i) d.set(i, params[i]);
  return run(plan, d.values, d.nulls, {});
}

Result exec_params(const std::string& sql, const std::vector<Param>& params) {
  TextDatums d(params.size());
  std::vector<PendingArray> arrays;
  for (size_t i = 0; i < params.size(); ++i) {
    if (const auto* a = std::get_if<ArrayParam>(&params[i]))
      arrays.push_back({i, &type_oids(a->element_type), &a->values});
    else if (const auto* b = std::get_if<Binary>(&params[i]))
      d.values[i] = b->datum;
    else
      d.set(i, std::get<Text>(params[i]));
  }
  SPIPlanPtr plan = cached_plan(sql);
  if (!plan) {
    std::vector<Oid> types(params.size(), TEXTOID);
    for (const PendingArray& a : arrays) types[a.index] = a.type->array;
    for (size_t i = 0; i < params.size(); ++i)
      if (const auto* b = std::get_if<Binary>(&params[i])) types[i] = type_oids(b->type).type;
    plan = prepare(sql, static_cast<int>(params.size()), &types);
  }
  return run(plan, d.values, d.nulls, arrays);
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
