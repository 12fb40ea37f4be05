// Validators that are also JSON Schema (DESIGN.md section 4, "OpenAPI 3.1 is generated
// from the validators"): the first offending field as a JSON Pointer with a stable code,
// and the schema each builder emits.
#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>

#include "platform/json.hpp"
#include "platform/schema.hpp"

namespace s = sk::schema;
using sk::json::Value;

namespace {

Value json(const std::string& text) {
  sk::json::ParseError e;
  auto v = sk::json::parse(text, &e);
  EXPECT_TRUE(v.has_value()) << text << ": " << e.message;
  return v ? *v : Value();
}

// Asserts valid and prints the issue when not.
void expect_valid(const s::Schema& schema, const std::string& text) {
  auto issue = s::validate(schema, json(text));
  EXPECT_FALSE(issue.has_value()) << text << " -> " << issue->code << " " << issue->param << ": " << issue->detail;
}

s::Issue expect_issue(const s::Schema& schema, const std::string& text, const std::string& code,
                      const std::string& param) {
  auto issue = s::validate(schema, json(text));
  EXPECT_TRUE(issue.has_value()) << text << " was accepted";
  if (!issue) return {};
  EXPECT_EQ(issue->code, code) << text;
  EXPECT_EQ(issue->param, param) << text;
  EXPECT_FALSE(issue->detail.empty());
  return *issue;
}

std::string schema_of(const s::Schema& schema) {
  s::Components c;
  return schema->to_json_schema(c).dump();
}

const std::string kItm = "itm_01ARYZ6S41TSV4RRFFQ69G5FAV";
const std::string kLoc = "loc_01ARYZ6S41TSV4RRFFQ69G5FAV";

s::Schema movement() {
  return s::object({
      s::required("item_id", s::id("itm")),
      s::required("qty", s::decimal({true, false, 15, 6})),
      s::required("type", s::enumeration({"receipt", "sale", "return", "adjustment", "transfer"})),
      s::required("reason", s::string(64, 1)),
      s::optional("location_id", s::id("loc")),
      s::optional("unit_cost", s::decimal({false, true, 15, 6})),
      s::optional("lot", s::object({s::required("code", s::string(64, 1)), s::optional("expires_on", s::date())})),
      s::optional("metadata", s::metadata()),
  });
}

std::string movement_json(const std::string& extra = "") {
  return R"({"item_id":")" + kItm + R"(","qty":-2,"type":"sale","reason":"order_fulfilled")" + extra + "}";
}

}  // namespace

// ---- objects and pointers -------------------------------------------------------

TEST(SchemaObject, AcceptsTheSeedMovement) {
  expect_valid(movement(), movement_json());
  expect_valid(movement(), movement_json(R"(,"location_id":")" + kLoc + R"(","unit_cost":"1.25","lot":{"code":"A"})"));
}

TEST(SchemaObject, MissingRequiredField) {
  auto issue = expect_issue(movement(), R"({"item_id":")" + kItm + R"(","type":"sale","reason":"x"})",
                            "parameter_missing", "/qty");
  EXPECT_EQ(issue.detail, "/qty is required.");
}

TEST(SchemaObject, UnknownField) {
  auto issue = expect_issue(movement(), movement_json(R"(,"quantity":1)"), "parameter_unknown", "/quantity");
  EXPECT_EQ(issue.detail, "/quantity is not a known parameter.");
}

TEST(SchemaObject, DeclaredFieldsAreCheckedBeforeUnknownOnes) {
  expect_issue(movement(), R"({"zzz":1,"item_id":")" + kItm + R"(","type":"sale","reason":"x"})",
               "parameter_missing", "/qty");
}

TEST(SchemaObject, FieldsAreCheckedInDeclarationOrder) {
  expect_issue(movement(), R"({"reason":"","type":"gift","qty":"x","item_id":"nope"})", "parameter_invalid",
               "/item_id");
  expect_issue(movement(), R"({"reason":"","type":"gift","qty":"x","item_id":")" + kItm + "\"}",
               "parameter_invalid", "/qty");
}

TEST(SchemaObject, NestedObjectsGetNestedPointers) {
  expect_issue(movement(), movement_json(R"(,"lot":{})"), "parameter_missing", "/lot/code");
  expect_issue(movement(), movement_json(R"(,"lot":{"code":"A","expires_on":"31/01/2026"})"), "parameter_invalid",
               "/lot/expires_on");
  expect_issue(movement(), movement_json(R"(,"lot":{"code":"A","extra":true})"), "parameter_unknown", "/lot/extra");
}

TEST(SchemaObject, NotAnObject) {
  auto issue = expect_issue(movement(), "[]", "parameter_invalid", "");
  EXPECT_EQ(issue.detail, "the body must be a JSON object.");
  expect_issue(movement(), movement_json(R"(,"lot":"A")"), "parameter_invalid", "/lot");
}

TEST(SchemaObject, AllowUnknownLetsExtraFieldsThrough) {
  auto open = s::object({s::required("a", s::boolean())}, true);
  expect_valid(open, R"({"a":true,"b":1})");
  expect_issue(open, R"({"b":1})", "parameter_missing", "/a");
}

TEST(SchemaObject, PointerTokensAreEscaped) {
  auto schema = s::object({s::required("a/b", s::boolean()), s::optional("m~n", s::boolean())});
  expect_issue(schema, "{}", "parameter_missing", "/a~1b");
  expect_issue(schema, R"({"a/b":true,"m~n":1})", "parameter_invalid", "/m~0n");
  expect_issue(schema, R"({"a/b":true,"x/y~z":1})", "parameter_unknown", "/x~1y~0z");
}

TEST(SchemaArray, ElementPointersCarryTheIndex) {
  auto batch = s::object({s::required("movements", s::array(movement(), 1000, 1))});
  std::string list;
  for (int i = 0; i < 20; ++i) {
    list += (i ? "," : "");
    list += i == 17 ? R"({"item_id":")" + kItm + R"(","qty":"1.5e3","type":"sale","reason":"x"})" : movement_json();
  }
  expect_issue(batch, R"({"movements":[)" + list + "]}", "parameter_invalid", "/movements/17/qty");
  expect_issue(batch, R"({"movements":[)" + movement_json() + "," + movement_json(R"(,"lot":{})") + "]}",
               "parameter_missing", "/movements/1/lot/code");
}

TEST(SchemaArray, SizeBounds) {
  auto a = s::array(s::boolean(), 3, 1);
  expect_valid(a, "[true]");
  expect_valid(a, "[true,false,true]");
  auto issue = expect_issue(a, "[]", "parameter_invalid", "");
  EXPECT_EQ(issue.detail, "the body must hold between 1 and 3 elements.");
  expect_issue(a, "[true,true,true,true]", "parameter_invalid", "");
  expect_issue(a, "{}", "parameter_invalid", "");
  expect_issue(a, "[true,1]", "parameter_invalid", "/1");
}

TEST(SchemaArray, BatchLimitOfOneThousand) {
  auto batch = s::object({s::required("movements", s::array(s::boolean(), 1000, 1))});
  std::string ok = "[true";
  for (int i = 1; i < 1000; ++i) ok += ",true";
  expect_valid(batch, R"({"movements":)" + ok + "]}");
  expect_issue(batch, R"({"movements":)" + ok + ",true]}", "parameter_invalid", "/movements");
}

// ---- scalars --------------------------------------------------------------------

TEST(SchemaString, LengthInCharactersNotBytes) {
  auto str = s::string(3, 1);
  expect_valid(str, R"("abc")");
  expect_valid(str, "\"\xC3\xA9\xC3\xA9\xC3\xA9\"");  // 3 characters, 6 bytes
  auto too_long = expect_issue(str, R"("abcd")", "parameter_invalid", "");
  EXPECT_EQ(too_long.detail, "the body must be at most 3 characters.");
  auto too_short = expect_issue(str, R"("")", "parameter_invalid", "");
  EXPECT_EQ(too_short.detail, "the body must be at least 1 characters.");
  expect_issue(str, "1", "parameter_invalid", "");
  expect_issue(str, "null", "parameter_invalid", "");
}

TEST(SchemaString, RejectsNul) {
  expect_issue(s::string(), R"("a\u0000b")", "parameter_invalid", "");
}

TEST(SchemaPattern, FullMatchAndLength) {
  auto code = s::pattern_string(s::patterns::snake_case, "snake_case", 5);
  expect_valid(code, R"("ab_1")");
  auto issue = expect_issue(code, R"("Ab")", "parameter_invalid", "");
  EXPECT_EQ(issue.detail, "the body must be snake_case.");
  expect_issue(code, R"("ab-c")", "parameter_invalid", "");   // partial match is not enough
  expect_issue(code, R"("abcdef")", "parameter_invalid", "");  // longer than 5
  expect_issue(code, "5", "parameter_invalid", "");
}

// Each hand-written matcher accepts exactly what std::regex (ECMAScript) fully matches
// for the expression the OpenAPI document publishes: hand-picked edge cases, then
// random strings over the characters the expressions treat specially.
TEST(SchemaPattern, MatchersAgreeWithTheirRegularExpressions) {
  std::vector<std::string> cases = {"", "a", "A", "_", "a_1", "1a", "ab-c", " a", "a ", "a b", "a\tb", "a\nb",
                                    "a\rb", "\n", std::string("a\0b", 3), "\xc3\xa9", "a\x7f", "~", "a.b", ".a",
                                    "a.", "a..b", "movement.recorded", "stock.low", "A.b", "http://", "http://x",
                                    "https://x/", "http://x y", "http://x/ y", "http:// x", "http://?", "http://x?q#f",
                                    "ftp://x", "HTTP://x", "https://[::1]:8080/p", std::string(64, 'a'),
                                    std::string(65, 'a'), std::string(255, '~'), std::string(256, '~')};
  const char alphabet[] = {'a', 'z', '_', '0', '9', 'A', '.', ' ', '\t', '\n', '\r', '\v', '\f', '\0', '/',
                           '?', '#', ':', 'h', 't', 'p', 's', '~', '\x7f', '\x80', '\xff', '-'};
  std::mt19937 rng(20261127);
  const char* prefixes[] = {"", "", "http://", "https://", "a", "a.b"};
  for (int i = 0; i < 20000; ++i) {
    std::string c = prefixes[rng() % 6];
    for (size_t n = rng() % 10; n > 0; --n) c += alphabet[rng() % sizeof alphabet];
    cases.push_back(c);
  }
  for (const s::Pattern* p : s::patterns::all) {
    std::regex re(p->regex, std::regex::ECMAScript);
    for (const auto& c : cases)
      EXPECT_EQ(p->matches(c), std::regex_match(c, re)) << p->regex << " on \"" << c << "\" (" << c.size() << " bytes)";
  }
}

TEST(SchemaEnum, ValuesAndDetail) {
  auto e = s::enumeration({"allow", "reject"});
  expect_valid(e, R"("allow")");
  auto issue = expect_issue(e, R"("Allow")", "parameter_invalid", "");
  EXPECT_EQ(issue.detail, "the body must be one of: allow, reject.");
  expect_issue(e, "true", "parameter_invalid", "");
  expect_valid(s::constant("list"), R"("list")");
  expect_issue(s::constant("list"), R"("lists")", "parameter_invalid", "");
}

TEST(SchemaId, PrefixAndUlid) {
  auto id = s::id("itm");
  expect_valid(id, "\"" + kItm + "\"");
  expect_issue(id, "\"" + kLoc + "\"", "parameter_invalid", "");
  expect_issue(id, R"("itm_01arYZ6S41TSV4RRFFQ69G5FAV")", "parameter_invalid", "");
  expect_issue(id, R"("itm_81ARYZ6S41TSV4RRFFQ69G5FAV")", "parameter_invalid", "");
  auto issue = expect_issue(id, "1", "parameter_invalid", "");
  EXPECT_EQ(issue.detail, "the body must be an id of the form itm_<ULID>.");
}

TEST(SchemaBoolean, OnlyJsonBooleans) {
  expect_valid(s::boolean(), "false");
  expect_issue(s::boolean(), R"("true")", "parameter_invalid", "");
  expect_issue(s::boolean(), "1", "parameter_invalid", "");
}

TEST(SchemaInteger, RangeAndForm) {
  auto limit = s::integer(1, 100);
  expect_valid(limit, "1");
  expect_valid(limit, "100");
  auto issue = expect_issue(limit, "0", "parameter_invalid", "");
  EXPECT_EQ(issue.detail, "the body must be an integer between 1 and 100.");
  expect_issue(limit, "101", "parameter_invalid", "");
  expect_issue(limit, "10.0", "parameter_invalid", "");
  expect_issue(limit, "1e1", "parameter_invalid", "");
  expect_issue(limit, R"("10")", "parameter_invalid", "");
  expect_issue(limit, "99999999999999999999", "parameter_invalid", "");  // no overflow, just refused
  expect_valid(s::integer(-5, 5), "-5");
  expect_valid(s::integer(-5, 5), "-0");
  // Query parameters reach the check as text, not through the JSON parser.
  auto small = s::integer(-5, 5);
  for (const char* bad : {"01", "-01", "-", "--1", "1-", "1 ", ""})
    EXPECT_TRUE(s::validate(small, small->from_text(bad)).has_value()) << bad;
  EXPECT_FALSE(s::validate(small, small->from_text("-3")).has_value());
}

// ---- decimals ---------------------------------------------------------------------

TEST(SchemaDecimal, NumbersAndStringsWithoutExponent) {
  auto d = s::decimal();
  for (const char* ok : {"0", "-2", "12.5", "0.000001", "\"12.50\"", "\"-0.5\"", "999999999999999.999999"})
    expect_valid(d, ok);
  for (const char* bad : {"1e3", "1E3", "\"1e3\"", "\"12,5\"", "\".5\"", "\"5.\"", "\"+5\"", "\" 5\"", "\"\"", "true",
                          "null", "[]", "\"-\"", "\"-.5\"", "\"1.2.3\"", "\"1..2\"", "\"5.-1\"", "\"--1\"", "\"1-\""}) {
    auto issue = expect_issue(d, bad, "parameter_invalid", "");
    EXPECT_EQ(issue.detail, "the body must be a decimal number (e.g. 12.5), without exponent.") << bad;
  }
}

TEST(SchemaDecimal, ScaleAndIntegerDigitLimits) {
  auto d = s::decimal();  // 15 integer digits, 6 decimal places by default
  expect_valid(d, "123456789012345");
  expect_valid(d, "\"000000000000000001\"");  // leading zeros are not significant digits
  auto issue = expect_issue(d, "1234567890123456", "parameter_invalid", "");
  EXPECT_EQ(issue.detail, "the body must be a decimal number with at most 15 integer digits and 6 decimal places.");
  expect_issue(d, "0.1234567", "parameter_invalid", "");
  auto money = s::decimal({true, true, 4, 2});
  expect_valid(money, "9999.99");
  expect_issue(money, "10000", "parameter_invalid", "");
  expect_issue(money, "1.001", "parameter_invalid", "");
  expect_valid(money, "\"1.00\"");
}

TEST(SchemaDecimal, NegativeAndZeroRules) {
  auto qty = s::decimal({true, false, 15, 6});  // a movement quantity: signed, non-zero
  expect_valid(qty, "-2");
  auto zero = expect_issue(qty, "0", "parameter_invalid", "");
  EXPECT_EQ(zero.detail, "the body must not be zero.");
  expect_issue(qty, "-0.000", "parameter_invalid", "");
  expect_issue(qty, "\"0.0\"", "parameter_invalid", "");

  auto cost = s::decimal({false, true, 15, 6});  // a unit cost: zero or positive
  expect_valid(cost, "0");
  expect_valid(cost, "-0");  // negative zero is zero
  auto neg = expect_issue(cost, "-0.01", "parameter_invalid", "");
  EXPECT_EQ(neg.detail, "the body must not be negative.");

  auto positive = s::decimal({false, false, 15, 6});
  expect_issue(positive, "0", "parameter_invalid", "");
  expect_issue(positive, "-1", "parameter_invalid", "");
  expect_valid(positive, "0.000001");
}

TEST(SchemaDecimalString, OnlyStrings) {
  expect_valid(s::decimal_string(), R"("12.50")");
  expect_issue(s::decimal_string(), "12.50", "parameter_invalid", "");
}

// ---- dates and times ------------------------------------------------------------

TEST(SchemaTimestamp, Rfc3339) {
  auto t = s::timestamp();
  for (const char* ok : {"\"2026-01-31T12:00:00Z\"", "\"2026-01-31t12:00:00z\"", "\"2026-01-31 23:59:59.123456+05:30\"",
                         "\"2026-12-01T00:00:00-08:00\""})
    expect_valid(t, ok);
  for (const char* bad : {"\"2026-01-31T12:00:00\"", "\"2026-01-31T24:00:00Z\"", "\"2026-13-01T00:00:00Z\"",
                          "\"2026-01-31T12:00:00.1234567Z\"", "\"2026-01-31\"", "\"2026-01-31T12:00Z\"", "1767182400"}) {
    auto issue = expect_issue(t, bad, "parameter_invalid", "");
    EXPECT_EQ(issue.detail, "the body must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z.") << bad;
  }
}

TEST(SchemaDate, IsoCalendarDate) {
  auto d = s::date();
  expect_valid(d, R"("2026-01-31")");
  expect_valid(d, R"("2028-02-29")");
  for (const char* bad : {"\"2026-1-31\"", "\"2026-00-10\"", "\"2026-01-32\"", "\"2026-01-31T00:00:00Z\"", "20260131",
                          "\"2026-02-29\"", "\"2026-02-30\"", "\"2026-04-31\"", "\"2100-02-29\""})
    expect_issue(d, bad, "parameter_invalid", "");
  expect_valid(s::timestamp(), R"("2000-02-29T00:00:00Z")");
  expect_issue(s::timestamp(), R"("2026-02-30T00:00:00Z")", "parameter_invalid", "");
}

// ---- metadata -------------------------------------------------------------------

TEST(SchemaMetadata, FiftyKeysAtMost) {
  auto m = s::object({s::optional("metadata", s::metadata())});
  std::string fifty;
  for (int i = 0; i < 50; ++i) fifty += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  expect_valid(m, R"({"metadata":{)" + fifty + "}}");
  auto issue = expect_issue(m, R"({"metadata":{)" + fifty + R"(,"k50":"v"}})", "parameter_invalid", "/metadata");
  EXPECT_EQ(issue.detail, "/metadata may hold at most 50 keys.");
}

TEST(SchemaMetadata, KeyAndValueLimits) {
  auto m = s::object({s::optional("metadata", s::metadata())});
  std::string k40(40, 'k'), v500(500, 'v');
  expect_valid(m, R"({"metadata":{")" + k40 + R"(":")" + v500 + R"("}})");
  expect_valid(m, R"({"metadata":{}})");
  auto long_key = expect_issue(m, R"({"metadata":{")" + k40 + R"(k":"v"}})", "parameter_invalid",
                               "/metadata/" + k40 + "k");
  EXPECT_EQ(long_key.detail, "metadata keys must be 1 to 40 characters.");
  expect_issue(m, R"({"metadata":{"":"v"}})", "parameter_invalid", "/metadata/");
  auto long_value = expect_issue(m, R"({"metadata":{"a":")" + v500 + R"(v"}})", "parameter_invalid", "/metadata/a");
  EXPECT_EQ(long_value.detail, "metadata values must be strings of at most 500 characters.");
  expect_issue(m, R"({"metadata":{"a":1}})", "parameter_invalid", "/metadata/a");
  expect_issue(m, R"({"metadata":{"a":null}})", "parameter_invalid", "/metadata/a");
  expect_issue(m, R"({"metadata":["a"]})", "parameter_invalid", "/metadata");
}

// Metadata keys are client text: a key holding '/' or '~' is escaped in the pointer
// (RFC 6901) like any member name.
TEST(SchemaMetadata, KeysAreEscapedInPointers) {
  auto m = s::object({s::optional("metadata", s::metadata())});
  expect_issue(m, R"({"metadata":{"a/b~c":1}})", "parameter_invalid", "/metadata/a~1b~0c");
}

// ---- wrappers -----------------------------------------------------------------------

TEST(SchemaNullable, AcceptsNullOrTheInner) {
  auto n = s::nullable(s::integer(1, 2));
  expect_valid(n, "null");
  expect_valid(n, "2");
  expect_issue(n, "3", "parameter_invalid", "");
  auto obj = s::object({s::optional("reorder_point", s::nullable(s::decimal()))});
  expect_valid(obj, R"({"reorder_point":null})");
  expect_issue(obj, R"({"reorder_point":"x"})", "parameter_invalid", "/reorder_point");
}

TEST(SchemaNamedAndDescribed, ValidateLikeTheInner) {
  auto named = s::named("Lot", s::object({s::required("code", s::string())}));
  expect_issue(named, "{}", "parameter_missing", "/code");
  auto described = s::describe(s::boolean(), "x");
  expect_issue(described, "1", "parameter_invalid", "");
}

TEST(SchemaFromText, QueryValuesBecomeTypedJson) {
  EXPECT_TRUE(s::boolean()->from_text("true").is_bool());
  EXPECT_TRUE(s::boolean()->from_text("true").as_bool());
  EXPECT_FALSE(s::boolean()->from_text("false").as_bool());
  EXPECT_TRUE(s::boolean()->from_text("yes").is_string());  // left for check() to refuse
  EXPECT_TRUE(s::integer(1, 100)->from_text("10").is_number());
  EXPECT_EQ(s::integer(1, 100)->from_text("10").text(), "10");
  EXPECT_TRUE(s::decimal()->from_text("1.5").is_number());
  EXPECT_TRUE(s::string()->from_text("10").is_string());
  EXPECT_TRUE(s::nullable(s::integer(1, 2))->from_text("1").is_number());
  EXPECT_TRUE(s::named("N", s::boolean())->from_text("true").is_bool());
  EXPECT_TRUE(s::describe(s::integer(1, 2), "d")->from_text("1").is_number());
  // The round trip a query parameter takes: text -> JSON -> check.
  auto limit = s::integer(1, 100);
  EXPECT_FALSE(limit->check(limit->from_text("10"), "/limit"));
  auto issue = limit->check(limit->from_text("abc"), "/limit");
  ASSERT_TRUE(issue);
  EXPECT_EQ(issue->param, "/limit");
}

TEST(SchemaObjectFields, SeenThroughNamedAndDescribed) {
  auto obj = s::object({s::required("a", s::boolean()), s::optional("b", s::string())});
  ASSERT_NE(obj->object_fields(), nullptr);
  ASSERT_EQ(obj->object_fields()->size(), 2u);
  EXPECT_EQ((*obj->object_fields())[0].name, "a");
  EXPECT_TRUE((*obj->object_fields())[0].required);
  EXPECT_EQ((*obj->object_fields())[1].name, "b");
  EXPECT_FALSE((*obj->object_fields())[1].required);
  EXPECT_EQ(s::named("N", s::describe(obj, "d"))->object_fields(), obj->object_fields());
  EXPECT_EQ(s::boolean()->object_fields(), nullptr);
  EXPECT_EQ(s::any_object()->object_fields(), nullptr);
  EXPECT_EQ(s::metadata()->object_fields(), nullptr);
}

// ---- emitted JSON Schema --------------------------------------------------------

TEST(SchemaJson, Scalars) {
  EXPECT_EQ(schema_of(s::string(10)), R"({"type":"string","maxLength":10})");
  EXPECT_EQ(schema_of(s::string(10, 2)), R"({"type":"string","minLength":2,"maxLength":10})");
  EXPECT_EQ(schema_of(s::pattern_string(s::patterns::snake_case, "snake_case", 20)),
            R"({"type":"string","pattern":"^[a-z][a-z0-9_]{0,63}$","maxLength":20})");
  EXPECT_EQ(schema_of(s::enumeration({"allow", "reject"})), R"({"type":"string","enum":["allow","reject"]})");
  EXPECT_EQ(schema_of(s::constant("list")), R"({"type":"string","enum":["list"]})");
  EXPECT_EQ(schema_of(s::boolean()), R"({"type":"boolean"})");
  EXPECT_EQ(schema_of(s::integer(1, 100)), R"({"type":"integer","minimum":1,"maximum":100})");
  EXPECT_EQ(schema_of(s::decimal_string()), R"({"type":"string","format":"decimal","example":"12.50"})");
  EXPECT_EQ(schema_of(s::timestamp()), R"({"type":"string","format":"date-time"})");
  EXPECT_EQ(schema_of(s::date()), R"({"type":"string","format":"date"})");
  EXPECT_EQ(schema_of(s::any_object()), R"({"type":"object"})");
}

TEST(SchemaJson, IdPatternMatchesTheExample) {
  EXPECT_EQ(schema_of(s::id("itm")),
            R"({"type":"string","pattern":"^itm_[0-9A-HJKMNP-TV-Z]{26}$","example":"itm_01J9X4T6Q8ZK2M3N4P5R6S7T8V"})");
  // The documented example must itself validate.
  expect_valid(s::id("itm"), R"("itm_01J9X4T6Q8ZK2M3N4P5R6S7T8V")");
}

TEST(SchemaJson, Decimals) {
  EXPECT_EQ(schema_of(s::decimal()),
            R"({"type":["number","string"],"format":"decimal","pattern":"^-?[0-9]+(\\.[0-9]+)?$",)"
            R"("description":"Exact decimal, at most 6 decimal places."})");
  EXPECT_EQ(schema_of(s::decimal({false, true, 15, 4})),
            R"({"type":["number","string"],"format":"decimal","pattern":"^[0-9]+(\\.[0-9]+)?$",)"
            R"("description":"Exact decimal, at most 4 decimal places; zero or positive."})");
  EXPECT_EQ(schema_of(s::decimal({false, false, 15, 6})),
            R"({"type":["number","string"],"format":"decimal","pattern":"^[0-9]+(\\.[0-9]+)?$",)"
            R"("description":"Exact decimal, at most 6 decimal places; positive."})");
  EXPECT_EQ(schema_of(s::decimal({true, false, 15, 6})),
            R"({"type":["number","string"],"format":"decimal","pattern":"^-?[0-9]+(\\.[0-9]+)?$",)"
            R"("description":"Exact decimal, at most 6 decimal places; non-zero."})");
}

TEST(SchemaJson, Metadata) {
  EXPECT_EQ(schema_of(s::metadata()),
            R"({"type":"object","maxProperties":50,"additionalProperties":{"type":"string","maxLength":500},)"
            R"("description":"Up to 50 string key/value pairs for your own use."})");
}

TEST(SchemaJson, ArrayBounds) {
  EXPECT_EQ(schema_of(s::array(s::boolean(), 1000, 1)),
            R"({"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":1000})");
  EXPECT_EQ(schema_of(s::array(s::boolean(), 5)), R"({"type":"array","items":{"type":"boolean"},"maxItems":5})");
}

TEST(SchemaJson, ObjectPropertiesRequiredAndDescriptions) {
  auto obj = s::object({s::required("sku", s::string(64, 1), "Your stock-keeping unit."),
                        s::optional("archived", s::boolean())});
  EXPECT_EQ(schema_of(obj),
            R"({"type":"object","properties":{"sku":{"type":"string","minLength":1,"maxLength":64,)"
            R"("description":"Your stock-keeping unit."},"archived":{"type":"boolean"}},"required":["sku"],)"
            R"("additionalProperties":false})");
  EXPECT_EQ(schema_of(s::object({s::optional("a", s::boolean())}, true)),
            R"({"type":"object","properties":{"a":{"type":"boolean"}},"additionalProperties":true})");
}

TEST(SchemaJson, NullableIsAnyOfWithNull) {
  EXPECT_EQ(schema_of(s::nullable(s::date())), R"({"anyOf":[{"type":"string","format":"date"},{"type":"null"}]})");
}

TEST(SchemaJson, DescribeAddsADescription) {
  EXPECT_EQ(schema_of(s::describe(s::boolean(), "Archived items are hidden.")),
            R"({"type":"boolean","description":"Archived items are hidden."})");
}

TEST(SchemaJson, NamedIsARefIntoComponentsEmittedOnce) {
  auto lot = s::named("Lot", s::object({s::required("code", s::string(64, 1))}));
  auto grn = s::object({s::required("lot", lot), s::optional("lots", s::array(lot, 10)),
                        s::optional("described", lot, "Descriptions are not added next to a $ref.")});
  s::Components c;
  EXPECT_EQ(grn->to_json_schema(c).dump(),
            R"({"type":"object","properties":{"lot":{"$ref":"#/components/schemas/Lot"},)"
            R"("lots":{"type":"array","items":{"$ref":"#/components/schemas/Lot"},"maxItems":10},)"
            R"("described":{"$ref":"#/components/schemas/Lot"}},"required":["lot"],"additionalProperties":false})");
  ASSERT_EQ(c.size(), 1u);
  ASSERT_EQ(c.count("Lot"), 1u);
  EXPECT_EQ(c.at("Lot").dump(),
            R"({"type":"object","properties":{"code":{"type":"string","minLength":1,"maxLength":64}},)"
            R"("required":["code"],"additionalProperties":false})");
}

TEST(SchemaJson, NestedNamedSchemasAllReachComponents) {
  auto inner = s::named("Inner", s::boolean());
  auto outer = s::named("Outer", s::object({s::required("inner", inner)}));
  s::Components c;
  EXPECT_EQ(outer->to_json_schema(c).dump(), R"({"$ref":"#/components/schemas/Outer"})");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c.at("Inner").dump(), R"({"type":"boolean"})");
  EXPECT_EQ(c.at("Outer").dump(),
            R"({"type":"object","properties":{"inner":{"$ref":"#/components/schemas/Inner"}},"required":["inner"],)"
            R"("additionalProperties":false})");
}

TEST(SchemaJson, ListEnvelope) {
  EXPECT_EQ(schema_of(s::list_of(s::boolean())),
            R"({"type":"object","properties":{"object":{"type":"string","enum":["list"]},)"
            R"("data":{"type":"array","items":{"type":"boolean"},"maxItems":100},)"
            R"("has_more":{"type":"boolean","description":"Whether another page follows in this direction."},)"
            R"("url":{"type":"string","maxLength":5000,"description":"The path of this list."}},)"
            R"("required":["object","data","has_more","url"],"additionalProperties":false})");
  expect_valid(s::list_of(s::boolean()), R"({"object":"list","data":[true],"has_more":false,"url":"/inventory/v1/x"})");
  expect_issue(s::list_of(s::boolean()), R"({"object":"list","data":[1],"has_more":false,"url":"/x"})",
               "parameter_invalid", "/data/0");
}
