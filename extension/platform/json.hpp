// A small JSON value that keeps numbers as their exact literal text, so quantities and
// money never pass through binary floating point (DESIGN.md section 4, "Numbers").
// Parsing is done by nlohmann's SAX parser; this type only holds the result.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sk::json {

class Value {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  using Member = std::pair<std::string, Value>;

  Value() = default;
  static Value null() { return Value(); }
  static Value boolean(bool b);
  static Value number(std::string literal);   // caller guarantees a JSON number literal
  static Value string(std::string s);
  static Value array(std::vector<Value> items = {});
  static Value object(std::vector<Member> members = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_object() const { return kind_ == Kind::Object; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_bool() const { return kind_ == Kind::Bool; }

  bool as_bool() const { return bool_; }
  const std::string& text() const { return text_; }   // string contents or number literal
  const std::vector<Value>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }

  const Value* find(std::string_view key) const;     // object member or nullptr
  Value* find_mutable(std::string_view key);
  Value& set(std::string key, Value v);              // append or replace (keeps order)
  Value& push(Value v);

  // Compact JSON in member order; `canonical` sorts object keys (for request hashes).
  std::string dump(bool canonical = false) const;
  // Indented with two spaces, member order kept (for documents people read and diff).
  std::string dump_pretty() const;

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  std::string text_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

struct ParseError {
  std::string message;
};

// Strict RFC 8259 parse of a complete document. Duplicate object keys are an error:
// which of two values a client meant is not ours to guess. Nesting deeper than
// kMaxDepth is refused: no API shape comes close, and unbounded depth would let a
// request exhaust the backend's stack.
constexpr size_t kMaxDepth = 64;
std::optional<Value> parse(std::string_view text, ParseError* error = nullptr);

// Appends `s` JSON-escaped and quoted.
void append_quoted(std::string& out, std::string_view s);
std::string quote(std::string_view s);

}  // namespace sk::json
