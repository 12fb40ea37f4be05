// SPI for C++: statements are prepared once per backend (SPI_keepplan) and keyed by
// their text; PostgreSQL errors become C++ exceptions so destructors always run
// (DESIGN.md section 9). Parameters travel as text and are cast in the SQL.
#pragma once
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace sk::pg {

using Text = std::optional<std::string>;

// A PostgreSQL error caught at the SPI boundary. The transaction (or the enclosing
// subtransaction) is aborted; only the boundary that owns it may continue.
class PgError : public std::runtime_error {
 public:
  PgError(std::string sqlstate, std::string message, std::string constraint, void* edata)
      : std::runtime_error(message), sqlstate(std::move(sqlstate)), constraint(std::move(constraint)), edata(edata) {}
  std::string sqlstate;      // e.g. "23505"
  std::string constraint;    // constraint name when PostgreSQL reports one
  void* edata;               // ErrorData*, copied into the function's memory context
};

struct Row {
  std::vector<Text> cols;
  const Text& operator[](size_t i) const { return cols.at(i); }
  const std::string& text(size_t i) const;  // throws if NULL
};

struct Result {
  std::vector<Row> rows;
  uint64_t processed = 0;
  bool empty() const { return rows.empty(); }
};

// A text Datum allocated without PostgreSQL's OOM longjmp: failure is std::bad_alloc,
// so it is safe to call with C++ objects alive.
uintptr_t text_datum(const std::string& s);

// {"a","b"}: a text[] literal (for `= ANY ($1::text[])`), every element quoted so any
// text survives. An index scan takes such an array directly, without an InitPlan.
std::string text_array(const std::vector<std::string>& values);
// Runs a statement over a list of ids, written with `= ANY ($1::text[])` (its only
// parameter, as often as needed). For one id it runs `= $1` with the id itself: a generic
// plan made while a table was nearly empty reads `= ANY` as a filter over the tenant's rows
// (it cannot know the array's length), a single value always by key. One id is the hot
// path (a movement POST, GET /items/{id}/stock); lists are planned again once statistics
// come.
Result exec_ids(const std::string& sql, const std::vector<std::string>& ids);

// Runs a prepared statement. `sql` is both the statement and its cache key.
Result exec(const std::string& sql, const std::vector<Text>& params = {});
// Convenience: first column of the first row, nullopt when there is no row.
Text exec_value(const std::string& sql, const std::vector<Text>& params = {});

// Runs a one-off utility statement (GRANT, …) without caching a plan.
void exec_utility(const std::string& sql);
std::string quote_identifier(const std::string& ident);

// Opens SPI for the lifetime of the object; the destructor closes it.
class SpiSession {
 public:
  SpiSession();
  ~SpiSession();
  SpiSession(const SpiSession&) = delete;
  SpiSession& operator=(const SpiSession&) = delete;
};

// While one exists, statements run read-only (SPI's read_only): each reads the snapshot
// of the statement that called into the extension instead of taking its own, and no
// command counter moves. A read's statements then agree with each other (on-hand and
// its split by location come from the same instant), and each costs less. A statement
// that writes fails inside one ("not allowed in a non-volatile function").
class ReadOnlyScope {
 public:
  ReadOnlyScope();
  ~ReadOnlyScope();
  static bool active();  // one is open
  ReadOnlyScope(const ReadOnlyScope&) = delete;
  ReadOnlyScope& operator=(const ReadOnlyScope&) = delete;

 private:
  bool outer_;
};

// Runs `body` in an internal subtransaction: committed when it returns, rolled back
// when it throws (the exception then continues). Used so a handler's 4xx undoes its
// writes while the idempotency record of the outer transaction survives.
void in_subtransaction(const std::function<void()>& body);

}  // namespace sk::pg
