#include "platform/json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace sk::json {

Value Value::boolean(bool b) { Value v; v.kind_ = Kind::Bool; v.bool_ = b; return v; }
Value Value::number(std::string literal) { Value v; v.kind_ = Kind::Number; v.text_ = std::move(literal); return v; }
Value Value::string(std::string s) { Value v; v.kind_ = Kind::String; v.text_ = std::move(s); return v; }
Value Value::array(std::vector<Value> items) { Value v; v.kind_ = Kind::Array; v.items_ = std::move(items); return v; }
Value Value::object(std::vector<Member> members) { Value v; v.kind_ = Kind::Object; v.members_ = std::move(members); return v; }

const Value* Value::find(std::string_view key) const {
  for (const auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}

Value* Value::find_mutable(std::string_view key) {
  for (auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}

Value& Value::set(std::string key, Value v) {
  for (auto& m : members_)
    if (m.first == key) { m.second = std::move(v); return m.second; }
  members_.emplace_back(std::move(key), std::move(v));
  return members_.back().second;
}

Value& Value::push(Value v) { items_.push_back(std::move(v)); return items_.back(); }

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string quote(std::string_view s) { std::string out; append_quoted(out, s); return out; }

namespace {
void dump_into(const Value& v, std::string& out, bool canonical) {
  switch (v.kind()) {
    case Value::Kind::Null: out += "null"; break;
    case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Value::Kind::Number: out += v.text(); break;
    case Value::Kind::String: append_quoted(out, v.text()); break;
    case Value::Kind::Array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.items()) {
        if (!first) out += ',';
        first = false;
        dump_into(item, out, canonical);
      }
      out += ']';
      break;
    }
    case Value::Kind::Object: {
      std::vector<const Value::Member*> order;
      order.reserve(v.members().size());
      for (const auto& m : v.members()) order.push_back(&m);
      if (canonical)
        std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      bool first = true;
      for (const auto* m : order) {
        if (!first) out += ',';
        first = false;
        append_quoted(out, m->first);
        out += ':';
        dump_into(m->second, out, canonical);
      }
      out += '}';
      break;
    }
  }
}

// Builds a Value tree from nlohmann's SAX events; number callbacks hand us the literal.
class Builder : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::optional<Value> result;
  std::string error;

  bool null() override { return add(Value::null()); }
  bool boolean(bool b) override { return add(Value::boolean(b)); }
  // Integers are exact in 64 bits and print back as their literal; anything wider
  // arrives through number_float, which carries the original text.
  bool number_integer(number_integer_t n) override { return add(Value::number(std::to_string(n))); }
  bool number_unsigned(number_unsigned_t n) override { return add(Value::number(std::to_string(n))); }
  bool number_float(number_float_t, const string_t& s) override { return add(Value::number(s)); }
  bool string(string_t& s) override { return add(Value::string(std::move(s))); }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return open(Value::object()); }
  bool key(string_t& k) override {
    if (stack_.back().value.find(k)) { error = "duplicate key \"" + k + "\""; return false; }
    stack_.back().pending_key = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(Value::array()); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) override {
    error = "invalid JSON at byte " + std::to_string(position);
    return false;
  }

 private:
  struct Frame { Value value; std::string pending_key; };
  std::vector<Frame> stack_;

  bool add(Value v) {
    if (stack_.empty()) { result = std::move(v); return true; }
    Frame& top = stack_.back();
    if (top.value.is_object()) top.value.set(std::move(top.pending_key), std::move(v));
    else top.value.push(std::move(v));
    return true;
  }
  bool open(Value container) {
    if (stack_.size() >= kMaxDepth) {
      error = "nesting deeper than " + std::to_string(kMaxDepth) + " levels";
      return false;
    }
    stack_.push_back({std::move(container), {}});
    return true;
  }
  bool close() {
    Value v = std::move(stack_.back().value);
    stack_.pop_back();
    return add(std::move(v));
  }
};
void pretty_into(const Value& v, std::string& out, int depth) {
  const bool object = v.is_object();
  const size_t n = object ? v.members().size() : v.is_array() ? v.items().size() : 0;
  if ((!object && !v.is_array()) || n == 0) {
    dump_into(v, out, false);
    return;
  }
  std::string pad(static_cast<size_t>(depth + 1) * 2, ' ');
  out += object ? "{\n" : "[\n";
  for (size_t i = 0; i < n; ++i) {
    out += pad;
    if (object) {
      append_quoted(out, v.members()[i].first);
      out += ": ";
      pretty_into(v.members()[i].second, out, depth + 1);
    } else {
      pretty_into(v.items()[i], out, depth + 1);
    }
    out += i + 1 < n ? ",\n" : "\n";
  }
  out += std::string(static_cast<size_t>(depth) * 2, ' ');
  out += object ? '}' : ']';
}
}  // namespace

std::string Value::dump_pretty() const {
  std::string out;
  pretty_into(*this, out, 0);
  out += '\n';
  return out;
}

std::string Value::dump(bool canonical) const {
  std::string out;
  dump_into(*this, out, canonical);
  return out;
}

std::optional<Value> parse(std::string_view text, ParseError* error) {
  Builder builder;
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder, nlohmann::json::input_format_t::json, true);
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok || !builder.result) {
    if (error) error->message = builder.error.empty() ? "invalid JSON" : builder.error;
    return std::nullopt;
  }
  return std::move(builder.result);
}

}  // namespace sk::json
