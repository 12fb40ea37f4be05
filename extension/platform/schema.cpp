#include "platform/schema.hpp"

#include <regex>

#include "platform/ulid.hpp"

namespace sk::schema {
namespace {

using json::Value;

Issue invalid(const std::string& pointer, std::string detail) {
  return {"parameter_invalid", pointer, std::move(detail)};
}

std::string field_name(const std::string& pointer) { return pointer.empty() ? "the body" : pointer; }

// Every character of t[from, to) is an ASCII digit (number literals are checked by hand:
// std::regex cost a movement POST more than its JSON parsing).
bool all_digits(const std::string& t, size_t from, size_t to = std::string::npos) {
  to = std::min(to, t.size());
  for (size_t i = from; i < to; ++i)
    if (t[i] < '0' || t[i] > '9') return false;
  return true;
}

Value type_schema(const char* type) { return Value::object({{"type", Value::string(type)}}); }

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

class StringNode : public Node {
 public:
  StringNode(size_t max, size_t min) : max_(max), min_(min) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (!v.is_string()) return invalid(p, field_name(p) + " must be a string.");
    size_t len = utf8_length(v.text());
    if (len < min_) return invalid(p, field_name(p) + " must be at least " + std::to_string(min_) + " characters.");
    if (len > max_) return invalid(p, field_name(p) + " must be at most " + std::to_string(max_) + " characters.");
    if (v.text().find('\0') != std::string::npos) return invalid(p, field_name(p) + " must not contain NUL.");
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override {
    Value s = type_schema("string");
    if (min_ > 0) s.set("minLength", Value::number(std::to_string(min_)));
    s.set("maxLength", Value::number(std::to_string(max_)));
    return s;
  }

 private:
  size_t max_, min_;
};

class PatternNode : public Node {
 public:
  PatternNode(const Pattern& pattern, std::string human, size_t max)
      : pattern_(pattern), human_(std::move(human)), max_(max) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (!v.is_string() || v.text().size() > max_ || !pattern_.matches(v.text()))
      return invalid(p, field_name(p) + " must be " + human_ + ".");
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override {
    Value s = type_schema("string");
    s.set("pattern", Value::string(pattern_.regex));
    s.set("maxLength", Value::number(std::to_string(max_)));
    return s;
  }

 private:
  const Pattern& pattern_;
  std::string human_;
  size_t max_;
};

class EnumNode : public Node {
 public:
  explicit EnumNode(std::vector<std::string> values) : values_(std::move(values)) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (v.is_string())
      for (const auto& allowed : values_)
        if (v.text() == allowed) return std::nullopt;
    std::string list;
    for (const auto& allowed : values_) list += (list.empty() ? "" : ", ") + allowed;
    return invalid(p, field_name(p) + " must be one of: " + list + ".");
  }
  Value to_json_schema(Components&) const override {
    Value s = type_schema("string");
    Value e = Value::array();
    for (const auto& allowed : values_) e.push(Value::string(allowed));
    s.set("enum", std::move(e));
    return s;
  }

 private:
  std::vector<std::string> values_;
};

class IdNode : public Node {
 public:
  explicit IdNode(std::string prefix) : prefix_(std::move(prefix)) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (!v.is_string() || !ulid::is_id(v.text(), prefix_))
      return invalid(p, field_name(p) + " must be an id of the form " + prefix_ + "_<ULID>.");
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override {
    Value s = type_schema("string");
    s.set("pattern", Value::string("^" + prefix_ + "_[0-9A-HJKMNP-TV-Z]{26}$"));
    s.set("example", Value::string(prefix_ + "_01J9X4T6Q8ZK2M3N4P5R6S7T8V"));
    return s;
  }

 private:
  std::string prefix_;
};

class BoolNode : public Node {
 public:
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (!v.is_bool()) return invalid(p, field_name(p) + " must be a boolean.");
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override { return type_schema("boolean"); }
  Value from_text(const std::string& t) const override {
    if (t == "true") return Value::boolean(true);
    if (t == "false") return Value::boolean(false);
    return Value::string(t);
  }
};

class IntegerNode : public Node {
 public:
  IntegerNode(long long min, long long max) : min_(min), max_(max) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    std::string range = " between " + std::to_string(min_) + " and " + std::to_string(max_);
    // -?(0|[1-9][0-9]{0,17})
    const std::string& t = v.text();
    size_t digits_at = !t.empty() && t[0] == '-' ? 1 : 0;
    size_t digits = t.size() - digits_at;
    bool well_formed = digits >= 1 && digits <= 18 && all_digits(t, digits_at) && (t[digits_at] != '0' || digits == 1);
    if (!v.is_number() || !well_formed)
      return invalid(p, field_name(p) + " must be an integer" + range + ".");
    long long n = std::stoll(v.text());
    if (n < min_ || n > max_) return invalid(p, field_name(p) + " must be an integer" + range + ".");
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override {
    Value s = type_schema("integer");
    s.set("minimum", Value::number(std::to_string(min_)));
    s.set("maximum", Value::number(std::to_string(max_)));
    return s;
  }
  Value from_text(const std::string& t) const override { return Value::number(t); }

 private:
  long long min_, max_;
};

class DecimalNode : public Node {
 public:
  explicit DecimalNode(DecimalRules r) : r_(r) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    // JSON numbers keep their literal; exponents are refused rather than expanded.
    // -?([0-9]+)(\.([0-9]+))?
    const std::string& t = v.text();
    std::string what = field_name(p) + " must be a decimal number";
    size_t int_at = !t.empty() && t[0] == '-' ? 1 : 0;
    size_t point = t.find('.', int_at);
    size_t int_end = point == std::string::npos ? t.size() : point;
    bool well_formed = int_end > int_at && all_digits(t, int_at, int_end) &&
                       (point == std::string::npos || (point + 1 < t.size() && all_digits(t, point + 1)));
    if (!(v.is_number() || v.is_string()) || !well_formed)
      return invalid(p, what + " (e.g. 12.5), without exponent.");
    size_t nz = t.find_first_not_of('0', int_at);
    int int_digits = nz >= int_end ? 0 : static_cast<int>(int_end - nz);
    int scale = point == std::string::npos ? 0 : static_cast<int>(t.size() - point - 1);
    if (int_digits > r_.max_integer_digits || scale > r_.max_scale)
      return invalid(p, what + " with at most " + std::to_string(r_.max_integer_digits) + " integer digits and " +
                            std::to_string(r_.max_scale) + " decimal places.");
    bool negative = t[0] == '-';
    bool zero = t.find_first_of("123456789") == std::string::npos;
    if (zero && !r_.allow_zero) return invalid(p, field_name(p) + " must not be zero.");
    if (negative && !zero && !r_.allow_negative) return invalid(p, field_name(p) + " must not be negative.");
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override {
    Value s = Value::object();
    s.set("type", Value::array({Value::string("number"), Value::string("string")}));
    s.set("format", Value::string("decimal"));
    s.set("pattern", Value::string(r_.allow_negative ? "^-?[0-9]+(\\.[0-9]+)?$" : "^[0-9]+(\\.[0-9]+)?$"));
    std::string d = "Exact decimal, at most " + std::to_string(r_.max_scale) + " decimal places";
    if (!r_.allow_negative) d += r_.allow_zero ? "; zero or positive" : "; positive";
    else if (!r_.allow_zero) d += "; non-zero";
    s.set("description", Value::string(d + "."));
    return s;
  }
  Value from_text(const std::string& t) const override { return Value::number(t); }

 private:
  DecimalRules r_;
};

class DecimalStringNode : public Node {
 public:
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (!v.is_string()) return invalid(p, field_name(p) + " must be a decimal string.");
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override {
    Value s = type_schema("string");
    s.set("format", Value::string("decimal"));
    s.set("example", Value::string("12.50"));
    return s;
  }
};

// The calendar check the patterns cannot do: 2026-02-30 is well-formed but no date.
bool real_date(const std::string& text) {
  int y = std::stoi(text.substr(0, 4)), m = std::stoi(text.substr(5, 2)), d = std::stoi(text.substr(8, 2));
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

class TimestampNode : public Node {
 public:
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    static const std::regex re(
        "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
        "(\\.[0-9]{1,6})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])");
    if (!v.is_string() || !std::regex_match(v.text(), re) || !real_date(v.text()))
      return invalid(p, field_name(p) + " must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z.");
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override {
    Value s = type_schema("string");
    s.set("format", Value::string("date-time"));
    return s;
  }
};

class DateNode : public Node {
 public:
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    static const std::regex re("[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])");
    if (!v.is_string() || !std::regex_match(v.text(), re) || !real_date(v.text()))
      return invalid(p, field_name(p) + " must be a date such as 2026-01-31.");
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override {
    Value s = type_schema("string");
    s.set("format", Value::string("date"));
    return s;
  }
};

// JSON Pointer escaping of a member name (RFC 6901).
std::string pointer_token(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

class MetadataNode : public Node {
 public:
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (!v.is_object()) return invalid(p, field_name(p) + " must be an object of string values.");
    if (v.members().size() > 50) return invalid(p, field_name(p) + " may hold at most 50 keys.");
    for (const auto& [k, val] : v.members()) {
      std::string here = p + "/" + pointer_token(k);
      if (k.empty() || utf8_length(k) > 40) return invalid(here, "metadata keys must be 1 to 40 characters.");
      if (!val.is_string() || utf8_length(val.text()) > 500)
        return invalid(here, "metadata values must be strings of at most 500 characters.");
    }
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override {
    Value s = type_schema("object");
    s.set("maxProperties", Value::number("50"));
    Value values = type_schema("string");
    values.set("maxLength", Value::number("500"));
    s.set("additionalProperties", std::move(values));
    s.set("description", Value::string("Up to 50 string key/value pairs for your own use."));
    return s;
  }
};

class ArrayNode : public Node {
 public:
  ArrayNode(Schema items, size_t max, size_t min) : items_(std::move(items)), max_(max), min_(min) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (!v.is_array()) return invalid(p, field_name(p) + " must be an array.");
    if (v.items().size() < min_ || v.items().size() > max_)
      return invalid(p, field_name(p) + " must hold between " + std::to_string(min_) + " and " +
                            std::to_string(max_) + " elements.");
    for (size_t i = 0; i < v.items().size(); ++i)
      if (auto issue = items_->check(v.items()[i], p + "/" + std::to_string(i))) return issue;
    return std::nullopt;
  }
  Value to_json_schema(Components& c) const override {
    Value s = type_schema("array");
    s.set("items", items_->to_json_schema(c));
    if (min_ > 0) s.set("minItems", Value::number(std::to_string(min_)));
    s.set("maxItems", Value::number(std::to_string(max_)));
    return s;
  }

 private:
  Schema items_;
  size_t max_, min_;
};

class ObjectNode : public Node {
 public:
  ObjectNode(std::vector<Field> fields, bool allow_unknown) : fields_(std::move(fields)), allow_unknown_(allow_unknown) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (!v.is_object()) return invalid(p, field_name(p) + " must be a JSON object.");
    for (const auto& f : fields_) {
      const Value* member = v.find(f.name);
      if (!member && !f.required) continue;  // most optional fields are absent: no pointer to build
      std::string here = p + "/" + pointer_token(f.name);
      if (!member) return Issue{"parameter_missing", here, here + " is required."};
      if (auto issue = f.schema->check(*member, here)) return issue;
    }
    if (!allow_unknown_)
      for (const auto& [name, _] : v.members()) {
        bool known = false;
        for (const auto& f : fields_) known = known || f.name == name;
        if (!known) {
          std::string here = p + "/" + pointer_token(name);
          return Issue{"parameter_unknown", here, here + " is not a known parameter."};
        }
      }
    return std::nullopt;
  }
  Value to_json_schema(Components& c) const override {
    Value s = type_schema("object");
    Value props = Value::object();
    Value req = Value::array();
    for (const auto& f : fields_) {
      Value fs = f.schema->to_json_schema(c);
      if (!f.description.empty() && fs.is_object() && !fs.find("$ref")) fs.set("description", Value::string(f.description));
      props.set(f.name, std::move(fs));
      if (f.required) req.push(Value::string(f.name));
    }
    s.set("properties", std::move(props));
    if (!req.items().empty()) s.set("required", std::move(req));
    s.set("additionalProperties", Value::boolean(allow_unknown_));
    return s;
  }
  const std::vector<Field>* object_fields() const override { return &fields_; }

 private:
  std::vector<Field> fields_;
  bool allow_unknown_;
};

class NullableNode : public Node {
 public:
  explicit NullableNode(Schema inner) : inner_(std::move(inner)) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (v.is_null()) return std::nullopt;
    return inner_->check(v, p);
  }
  Value to_json_schema(Components& c) const override {
    return Value::object({{"anyOf", Value::array({inner_->to_json_schema(c), type_schema("null")})}});
  }
  Value from_text(const std::string& t) const override { return inner_->from_text(t); }

 private:
  Schema inner_;
};

class AnyObjectNode : public Node {
 public:
  std::optional<Issue> check(const Value& v, const std::string& p) const override {
    if (!v.is_object()) return invalid(p, field_name(p) + " must be a JSON object.");
    return std::nullopt;
  }
  Value to_json_schema(Components&) const override { return type_schema("object"); }
};

class NamedNode : public Node {
 public:
  NamedNode(std::string name, Schema inner) : name_(std::move(name)), inner_(std::move(inner)) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override { return inner_->check(v, p); }
  Value to_json_schema(Components& c) const override {
    if (!c.count(name_)) {
      c[name_] = Value();  // placeholder first: a recursive shape must not loop
      c[name_] = inner_->to_json_schema(c);
    }
    return Value::object({{"$ref", Value::string("#/components/schemas/" + name_)}});
  }
  Value from_text(const std::string& t) const override { return inner_->from_text(t); }
  const std::vector<Field>* object_fields() const override { return inner_->object_fields(); }

 private:
  std::string name_;
  Schema inner_;
};

class DescribedNode : public Node {
 public:
  DescribedNode(Schema inner, std::string d) : inner_(std::move(inner)), description_(std::move(d)) {}
  std::optional<Issue> check(const Value& v, const std::string& p) const override { return inner_->check(v, p); }
  Value to_json_schema(Components& c) const override {
    Value s = inner_->to_json_schema(c);
    s.set("description", Value::string(description_));
    return s;
  }
  Value from_text(const std::string& t) const override { return inner_->from_text(t); }
  const std::vector<Field>* object_fields() const override { return inner_->object_fields(); }

 private:
  Schema inner_;
  std::string description_;
};

}  // namespace

Schema string(size_t max_length, size_t min_length) { return std::make_shared<StringNode>(max_length, min_length); }
Schema pattern_string(const Pattern& pattern, std::string human, size_t max_length) {
  return std::make_shared<PatternNode>(pattern, std::move(human), max_length);
}

namespace patterns {
namespace {

bool lower_or_underscore(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
bool digit(char c) { return c >= '0' && c <= '9'; }
// ECMAScript \s over bytes in the "C" locale.
bool space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool line_break(char c) { return c == '\n' || c == '\r'; }  // what ECMAScript '.' skips

bool is_snake_case(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s.substr(1))
    if (!lower_or_underscore(c) && !digit(c)) return false;
  return true;
}

bool is_trimmed_line(std::string_view s) {
  if (s.empty() || space(s.front()) || space(s.back())) return false;
  for (size_t i = 1; i + 1 < s.size(); ++i)
    if (line_break(s[i])) return false;
  return true;
}

bool is_event_type(std::string_view s) {
  size_t segments = 0, run = 0;
  for (char c : s) {
    if (c == '.') {
      if (run == 0) return false;
      ++segments;
      run = 0;
    } else if (lower_or_underscore(c)) {
      ++run;
    } else {
      return false;
    }
  }
  return run > 0 && segments >= 1;
}

bool is_http_url(std::string_view s) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (s.substr(0, scheme.size()) != scheme) continue;
    std::string_view rest = s.substr(scheme.size());
    size_t host = 0;
    while (host < rest.size() && !space(rest[host]) && rest[host] != '/' && rest[host] != '?' && rest[host] != '#')
      ++host;
    if (host == 0) return false;
    if (host == rest.size()) return true;
    if (space(rest[host])) return false;
    for (char c : rest.substr(host))
      if (space(c)) return false;
    return true;
  }
  return false;
}

bool is_printable_ascii(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s)
    if (c < 0x20 || c > 0x7E) return false;
  return true;
}

}  // namespace

const Pattern snake_case{"^[a-z][a-z0-9_]{0,63}$", is_snake_case};
const Pattern trimmed_line{"^[^\\s](.*[^\\s])?$", is_trimmed_line};
const Pattern event_type{"^[a-z_]+(\\.[a-z_]+)+$", is_event_type};
const Pattern http_url{"^https?://[^\\s/?#]+([/?#][^\\s]*)?$", is_http_url};
const Pattern printable_ascii{"^[\\x20-\\x7E]{1,255}$", is_printable_ascii};
const std::vector<const Pattern*> all = {&snake_case, &trimmed_line, &event_type, &http_url, &printable_ascii};

}  // namespace patterns
Schema enumeration(std::vector<std::string> values) { return std::make_shared<EnumNode>(std::move(values)); }
Schema constant(std::string value) { return enumeration({std::move(value)}); }
Schema id(std::string prefix) { return std::make_shared<IdNode>(std::move(prefix)); }
Schema boolean() { return std::make_shared<BoolNode>(); }
Schema integer(long long min, long long max) { return std::make_shared<IntegerNode>(min, max); }
Schema decimal(DecimalRules rules) { return std::make_shared<DecimalNode>(rules); }
Schema decimal_string() { return std::make_shared<DecimalStringNode>(); }
Schema timestamp() { return std::make_shared<TimestampNode>(); }
Schema date() { return std::make_shared<DateNode>(); }
Schema metadata() { return std::make_shared<MetadataNode>(); }
Schema array(Schema items, size_t max_items, size_t min_items) {
  return std::make_shared<ArrayNode>(std::move(items), max_items, min_items);
}
Schema object(std::vector<Field> fields, bool allow_unknown) {
  return std::make_shared<ObjectNode>(std::move(fields), allow_unknown);
}
Schema nullable(Schema inner) { return std::make_shared<NullableNode>(std::move(inner)); }
Schema any_object() { return std::make_shared<AnyObjectNode>(); }
Schema named(std::string name, Schema inner) { return std::make_shared<NamedNode>(std::move(name), std::move(inner)); }
Schema describe(Schema inner, std::string description) {
  return std::make_shared<DescribedNode>(std::move(inner), std::move(description));
}

Schema api_object(const std::string& id_prefix, const std::string& object_name, std::vector<Field> fields) {
  std::vector<Field> all = {
      required("id", id(id_prefix)),
      required("object", constant(object_name)),
      required("livemode", boolean(), "false for test mode (sk_test_/rk_test_ keys), true for live mode."),
      required("created_at", timestamp()),
  };
  for (auto& f : fields) all.push_back(std::move(f));
  return object(std::move(all));
}

Schema list_of(Schema item) {
  return object({
      required("object", constant("list")),
      required("data", array(std::move(item), 100)),
      required("has_more", boolean(), "Whether another page follows in this direction."),
      required("url", string(), "The path of this list."),
  });
}

}  // namespace sk::schema
