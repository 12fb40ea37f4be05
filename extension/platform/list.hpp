// Cursor pagination, one implementation for every list route: keyset on the id,
// newest first, `limit` 1–100, `starting_after` / `ending_before`, Stripe's envelope.
#pragma once
#include <string>
#include <vector>

#include "pg/spi.hpp"
#include "platform/api.hpp"

namespace sk::list {

// The row a statement about the route's {id} returned, or the route's 404.
std::string found(const std::optional<std::string>& row, const api::Call& call);

// The object named by the route's {id}: `sql` selects its JSON text with $1 = the id;
// no row is the route's 404 (another tenant's object looks exactly like a missing one).
api::Response object_or_404(const std::string& sql, const api::Call& call);

// The query schema of a list route: the paging parameters plus the route's filters.
schema::Schema query_schema(const std::string& id_prefix, std::vector<schema::Field> filters = {});

class Query {
 public:
  // `select` yields one column: the object's JSON text. `alias` names the table whose
  // `id` column is the cursor.
  Query(std::string select, std::string from, std::string alias);
  // Adds a condition with one `?` placeholder; skipped when `value` is absent.
  Query& where(const std::string& condition, const pg::Text& value);
  // Adds a fixed condition without parameters.
  Query& filter(const std::string& condition);
  // Pages along `column` instead of the id, where it sorts rows exactly as their ids do
  // (an item's movements by seq): an index on it then serves the page. `cursor_value`
  // is the column's value for a cursor id, with one `?` placeholder for that id.
  Query& order_by(const std::string& column, const std::string& cursor_value);
  api::Response run(const api::Call& call) const;

 private:
  std::string select_, from_, alias_;
  std::vector<std::string> conditions_;
  std::vector<pg::Text> params_;
  std::string order_column_, cursor_value_;  // empty: the id
};

}  // namespace sk::list
