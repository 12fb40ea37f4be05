// sk.new_id(prefix) and sk.id_time(id): the prefixed ULIDs of section 4 from SQL.
#include "platform/ids.hpp"

#include "pg/guard.hpp"
#include "pg/postgres.hpp"

namespace sk::ids {

// One generator per backend keeps ids monotonic within it.
ulid::Generator& generator() {
  static ulid::Generator g;
  return g;
}

std::string next_after(std::string_view prefix, const std::optional<std::string>& floor_id) {
  std::optional<ulid::Bytes> floor;
  if (floor_id && floor_id->size() > prefix.size() + 1) floor = ulid::decode(std::string_view(*floor_id).substr(prefix.size() + 1));
  if (!floor) return generator().next_id(prefix);
  std::string id(prefix);
  id += '_';
  id += ulid::encode(generator().next_after(*floor));
  return id;
}

namespace {

bool valid_prefix(const std::string& p) {
  if (p.empty() || p.size() > 8) return false;
  for (char c : p)
    if (c < 'a' || c > 'z') return false;
  return true;
}

}  // namespace
}  // namespace sk::ids

extern "C" {
PG_FUNCTION_INFO_V1(sk_new_id);
PG_FUNCTION_INFO_V1(sk_id_time);

Datum sk_new_id(PG_FUNCTION_ARGS) {
  text* t = PG_GETARG_TEXT_PP(0);
  return sk::pg::guarded([&]() -> Datum {
    std::string prefix(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    if (!sk::ids::valid_prefix(prefix)) throw std::invalid_argument("id prefix must be 1 to 8 lowercase letters");
    return sk::pg::text_datum(sk::ids::generator().next_id(prefix));
  });
}

Datum sk_id_time(PG_FUNCTION_ARGS) {
  text* t = PG_GETARG_TEXT_PP(0);
  std::string_view id(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
  size_t underscore = id.find('_');
  std::optional<uint64_t> ms;
  if (underscore != std::string_view::npos) ms = sk::ulid::id_timestamp_ms(id, id.substr(0, underscore));
  if (!ms) PG_RETURN_NULL();
  // Unix milliseconds to PostgreSQL's microseconds since 2000-01-01.
  TimestampTz ts = static_cast<TimestampTz>(*ms) * 1000 -
                   static_cast<TimestampTz>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
  PG_RETURN_TIMESTAMPTZ(ts);
}
}
