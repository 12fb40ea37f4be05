// Validators that are also JSON Schema. Each route declares its request and response
// shapes once with these builders; the same declaration checks input (first offending
// field as a JSON Pointer) and generates the OpenAPI document, so the docs cannot drift.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/json.hpp"

namespace sk::schema {

struct Issue {
  std::string code;    // parameter_missing | parameter_invalid | parameter_unknown
  std::string param;   // JSON Pointer of the offending field
  std::string detail;  // a sentence for humans
};

// Named schemas met while generating, emitted once under components/schemas.
using Components = std::map<std::string, json::Value>;

struct Field;

class Node {
 public:
  virtual ~Node() = default;
  virtual std::optional<Issue> check(const json::Value& v, const std::string& pointer) const = 0;
  virtual json::Value to_json_schema(Components& components) const = 0;
  // Query-string values arrive as text; a node converts them to the JSON it validates.
  virtual json::Value from_text(const std::string& text) const { return json::Value::string(text); }
  // The fields of an object schema (seen through named/described wrappers), else null.
  virtual const std::vector<Field>* object_fields() const { return nullptr; }
};
using Schema = std::shared_ptr<const Node>;

struct Field {
  std::string name;
  Schema schema;
  bool required = false;
  std::string description;
};
inline Field required(std::string name, Schema s, std::string description = {}) {
  return {std::move(name), std::move(s), true, std::move(description)};
}
inline Field optional(std::string name, Schema s, std::string description = {}) {
  return {std::move(name), std::move(s), false, std::move(description)};
}

Schema string(size_t max_length = 5000, size_t min_length = 0);
// A string pattern: the regular expression the OpenAPI document publishes, and a
// hand-written matcher that accepts exactly the strings the expression fully matches
// (ECMAScript, as std::regex reads it). std::regex cost a movement more than parsing its
// JSON; test_schema checks each matcher against std::regex.
struct Pattern {
  const char* regex;
  bool (*matches)(std::string_view);
};
namespace patterns {
extern const Pattern snake_case;       // reason codes: a-z first, then a-z 0-9 _, 1 to 64
extern const Pattern trimmed_line;     // SKUs: no leading or trailing space, no line break
extern const Pattern event_type;       // movement.recorded
extern const Pattern http_url;         // http:// or https://, a host, no spaces
extern const Pattern printable_ascii;  // 1 to 255 characters 0x20-0x7E
extern const std::vector<const Pattern*> all;
}  // namespace patterns
Schema pattern_string(const Pattern& pattern, std::string human, size_t max_length = 255);
Schema enumeration(std::vector<std::string> values);
Schema constant(std::string value);
Schema id(std::string prefix);                 // "itm" -> itm_<ULID>
Schema boolean();
Schema integer(long long min, long long max);
// Exact decimal given as a JSON number or a decimal string (never parsed as a double).
struct DecimalRules {
  bool allow_negative = true;
  bool allow_zero = true;
  int max_integer_digits = 15;
  int max_scale = 6;
};
Schema decimal(DecimalRules rules = {});
Schema decimal_string();                       // output: money and quantities as strings
Schema timestamp();                            // RFC 3339 date-time
Schema date();                                 // YYYY-MM-DD
Schema metadata();                             // up to 50 string key/values
Schema array(Schema items, size_t max_items, size_t min_items = 0);
Schema object(std::vector<Field> fields, bool allow_unknown = false);
Schema nullable(Schema inner);
Schema any_object();                           // free-form object (outputs only)
Schema named(std::string name, Schema inner);  // emitted as a $ref to components
Schema describe(Schema inner, std::string description);

// An API object: the fields every object starts with (id, object, livemode, created_at)
// followed by its own.
Schema api_object(const std::string& id_prefix, const std::string& object_name, std::vector<Field> fields);

// A list envelope of Stripe shape around `item`.
Schema list_of(Schema item);

// Validates `v` against `s`; nullopt when valid.
inline std::optional<Issue> validate(const Schema& s, const json::Value& v) { return s->check(v, ""); }

}  // namespace sk::schema
