// sk::json: exact number literals, canonical dumps, strict parsing (DESIGN.md
// section 4, "Numbers" and "Idempotency").
#include <gtest/gtest.h>

#include <string>

#include "platform/json.hpp"

using sk::json::ParseError;
using sk::json::Value;

namespace {

Value parse_ok(const std::string& text) {
  ParseError e;
  auto v = sk::json::parse(text, &e);
  EXPECT_TRUE(v.has_value()) << text << ": " << e.message;
  return v ? *v : Value();
}

std::string parse_error(const std::string& text) {
  ParseError e;
  auto v = sk::json::parse(text, &e);
  EXPECT_FALSE(v.has_value()) << text << " parsed as " << (v ? v->dump() : "");
  return e.message;
}

}  // namespace

TEST(JsonNumbers, KeepTheLiteralExactly) {
  for (const char* literal : {"0.1", "12345678901234567890.000001", "-2", "0", "1.10", "100", "-0.0",
                              "9223372036854775807", "-9223372036854775808", "18446744073709551615",
                              "123456789012345678901234567890", "1E+2", "-0.0e-5", "3.000000000000000000001"}) {
    Value v = parse_ok(literal);
    ASSERT_TRUE(v.is_number()) << literal;
    EXPECT_EQ(v.text(), literal);
    EXPECT_EQ(v.dump(), literal);
  }
}

TEST(JsonNumbers, IntegerMinusZeroBecomesZero) {
  // Integers are re-printed from their 64-bit value, so "-0", the one integer literal
  // that differs from its printed value, reads back as "0" (same number, same hash).
  EXPECT_EQ(parse_ok("-0").text(), "0");
  EXPECT_EQ(parse_ok(R"({"qty":-0})").dump(true), parse_ok(R"({"qty":0})").dump(true));
  EXPECT_EQ(parse_ok("-0.0").text(), "-0.0");  // decimals keep their literal
}

TEST(JsonNumbers, KeepLiteralsInsideDocuments) {
  Value v = parse_ok(R"({"qty":-2,"unit_cost":0.10,"big":12345678901234567890.000001})");
  EXPECT_EQ(v.find("qty")->text(), "-2");
  EXPECT_EQ(v.find("unit_cost")->text(), "0.10");
  EXPECT_EQ(v.find("big")->text(), "12345678901234567890.000001");
  EXPECT_EQ(v.dump(), R"({"qty":-2,"unit_cost":0.10,"big":12345678901234567890.000001})");
}

TEST(JsonParse, BuildsTheRightKinds) {
  Value v = parse_ok(R"({"n":null,"t":true,"f":false,"s":"x","a":[1,"2"],"o":{}})");
  ASSERT_TRUE(v.is_object());
  EXPECT_TRUE(v.find("n")->is_null());
  EXPECT_TRUE(v.find("t")->is_bool());
  EXPECT_TRUE(v.find("t")->as_bool());
  EXPECT_FALSE(v.find("f")->as_bool());
  EXPECT_TRUE(v.find("s")->is_string());
  EXPECT_EQ(v.find("s")->text(), "x");
  ASSERT_TRUE(v.find("a")->is_array());
  ASSERT_EQ(v.find("a")->items().size(), 2u);
  EXPECT_TRUE(v.find("a")->items()[0].is_number());
  EXPECT_TRUE(v.find("a")->items()[1].is_string());
  EXPECT_TRUE(v.find("o")->is_object());
  EXPECT_TRUE(v.find("o")->members().empty());
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(JsonParse, AcceptsScalarsAndSurroundingWhitespace) {
  EXPECT_TRUE(parse_ok(" \n\ttrue \r\n").as_bool());
  EXPECT_TRUE(parse_ok("null").is_null());
  EXPECT_EQ(parse_ok(R"("s")").text(), "s");
  EXPECT_EQ(parse_ok(" [ 1 , 2 ] ").dump(), "[1,2]");
}

TEST(JsonDump, KeepsMemberOrderByDefault) {
  Value v = parse_ok(R"({"b":1,"a":2,"c":{"z":1,"y":2}})");
  EXPECT_EQ(v.dump(), R"({"b":1,"a":2,"c":{"z":1,"y":2}})");
}

TEST(JsonDump, CanonicalSortsKeysAtEveryLevel) {
  Value v = parse_ok(R"({"b":1,"a":{"d":[{"z":1,"y":2}],"c":null}})");
  EXPECT_EQ(v.dump(true), R"({"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1})");
}

TEST(JsonDump, CanonicalOrderIsByteOrderAndKeepsArrayOrder) {
  Value v = parse_ok(R"({"a":[3,1,2],"_":0,"B":0,"é":0,"aa":0})");
  EXPECT_EQ(v.dump(true), "{\"B\":0,\"_\":0,\"a\":[3,1,2],\"aa\":0,\"\xC3\xA9\":0}");
}

TEST(JsonDump, CanonicalFormIgnoresInputKeyOrderAndWhitespace) {
  Value a = parse_ok(R"({"item_id":"itm_1","qty":-2,"type":"sale"})");
  Value b = parse_ok("{ \"type\" : \"sale\",\n \"qty\" : -2, \"item_id\" : \"itm_1\" }");
  EXPECT_EQ(a.dump(true), b.dump(true));
  EXPECT_NE(a.dump(), b.dump());
}

TEST(JsonDump, RoundTripsThroughParse) {
  for (const char* doc : {R"({"a":[1,2.50,{"b":null}],"c":"d\"e","f":true,"g":-0.000001})", "[]", "{}",
                          R"([[[]],{"":""}])", R"("\u0000")"}) {
    Value v = parse_ok(doc);
    std::string once = v.dump();
    EXPECT_EQ(parse_ok(once).dump(), once) << doc;
    EXPECT_EQ(parse_ok(v.dump(true)).dump(true), v.dump(true)) << doc;
  }
}

TEST(JsonParse, RejectsDuplicateKeys) {
  EXPECT_EQ(parse_error(R"({"a":1,"a":2})"), "duplicate key \"a\"");
  EXPECT_EQ(parse_error(R"({"x":{"qty":1,"qty":1}})"), "duplicate key \"qty\"");
  EXPECT_EQ(parse_error(R"([{"k":1,"j":2,"k":3}])"), "duplicate key \"k\"");
}

TEST(JsonParse, SameKeyInDifferentObjectsIsFine) {
  Value v = parse_ok(R"([{"a":1},{"a":2}])");
  EXPECT_EQ(v.items()[1].find("a")->text(), "2");
  Value w = parse_ok(R"({"a":{"a":{"a":1}}})");
  EXPECT_EQ(w.find("a")->find("a")->find("a")->text(), "1");
}

TEST(JsonParse, RejectsInvalidDocumentsWithAPosition) {
  EXPECT_EQ(parse_error(""), "invalid JSON at byte 1");
  EXPECT_EQ(parse_error("{"), "invalid JSON at byte 2");
  EXPECT_EQ(parse_error("[1,]"), "invalid JSON at byte 4");
  EXPECT_EQ(parse_error("01"), "invalid JSON at byte 2");
  EXPECT_EQ(parse_error("{} x"), "invalid JSON at byte 4");  // trailing garbage
  for (const char* bad : {"{'a':1}", "{\"a\" 1}", "[1 2]", "NaN", "Infinity", "-", "1.", ".5", "+1", "1e",
                          "tru", "\"unterminated", "{\"a\":1,}", "/* c */ {}", "\"\\x41\"", "\"\\ud800\"",
                          "\"tab\there\"", "\"\xff\"", "\"\xc3\""}) {
    std::string msg = parse_error(bad);
    EXPECT_EQ(msg.rfind("invalid JSON at byte ", 0), 0u) << bad << " -> " << msg;
  }
}

TEST(JsonParse, WorksWithoutAnErrorOut) {
  EXPECT_FALSE(sk::json::parse("{").has_value());
  EXPECT_FALSE(sk::json::parse(R"({"a":1,"a":1})").has_value());
  EXPECT_TRUE(sk::json::parse("{}").has_value());
}

TEST(JsonStrings, EscapesDecodeAndReencodeMinimally) {
  Value v = parse_ok(R"("q\"b\\s\/n\nt\tr\rb\bf\f")");
  EXPECT_EQ(v.text(), "q\"b\\s/n\nt\tr\rb\bf\f");
  EXPECT_EQ(v.dump(), R"("q\"b\\s/n\nt\tr\rb\bf\f")");
}

TEST(JsonStrings, ControlCharactersAreEscapedAsUnicode) {
  Value v = parse_ok(R"("\u0000\u0001\u001f\u007f")");
  EXPECT_EQ(v.text(), std::string("\0\x01\x1f\x7f", 4));
  EXPECT_EQ(v.dump(), "\"\\u0000\\u0001\\u001f\x7f\"");
}

TEST(JsonStrings, UnicodePassesThroughAsUtf8) {
  EXPECT_EQ(parse_ok(R"("\u00e9")").text(), "\xC3\xA9");
  EXPECT_EQ(parse_ok(R"("\u00e9")").dump(), "\"\xC3\xA9\"");
  EXPECT_EQ(parse_ok(R"("\ud83d\ude00")").text(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(parse_ok("\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"").dump(),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  EXPECT_EQ(parse_ok(R"("\u2028")").dump(), "\"\xE2\x80\xA8\"");
}

TEST(JsonStrings, QuoteEscapesLikeDump) {
  EXPECT_EQ(sk::json::quote("a\"b"), R"("a\"b")");
  EXPECT_EQ(sk::json::quote(std::string("\x01\n", 2)), R"("\u0001\n")");
  EXPECT_EQ(sk::json::quote(""), R"("")");
  std::string out = "x=";
  sk::json::append_quoted(out, "</script>");
  EXPECT_EQ(out, R"(x="</script>")");
}

TEST(JsonDump, PrettyIndentsTwoSpacesAndKeepsOrder) {
  Value v = parse_ok(R"({"b":[1,{"c":null}],"a":{},"e":[],"s":"x"})");
  EXPECT_EQ(v.dump_pretty(),
            "{\n"
            "  \"b\": [\n"
            "    1,\n"
            "    {\n"
            "      \"c\": null\n"
            "    }\n"
            "  ],\n"
            "  \"a\": {},\n"
            "  \"e\": [],\n"
            "  \"s\": \"x\"\n"
            "}\n");
  EXPECT_EQ(parse_ok(v.dump_pretty()).dump(), v.dump());
  EXPECT_EQ(parse_ok("7").dump_pretty(), "7\n");
}

TEST(JsonValue, BuildersAndMutation) {
  Value o = Value::object();
  o.set("b", Value::number("1"));
  o.set("a", Value::string("x"));
  o.set("b", Value::boolean(false));  // replaces in place, keeps position
  EXPECT_EQ(o.dump(), R"({"b":false,"a":"x"})");
  Value a = Value::array();
  a.push(Value::null());
  a.push(Value::number("-1.5"));
  a.push(std::move(o));
  EXPECT_EQ(a.dump(), R"([null,-1.5,{"b":false,"a":"x"}])");
  EXPECT_EQ(a.dump(true), R"([null,-1.5,{"a":"x","b":false}])");
  EXPECT_EQ(Value().dump(), "null");
  EXPECT_EQ(Value::object({{"k", Value::string("v")}}).dump(), R"({"k":"v"})");
  Value m = Value::object({{"k", Value::string("v")}});
  ASSERT_NE(m.find_mutable("k"), nullptr);
  *m.find_mutable("k") = Value::number("2");
  EXPECT_EQ(m.dump(), R"({"k":2})");
  EXPECT_EQ(m.find_mutable("nope"), nullptr);
}

// A body within the 1 MiB limit could nest ~500,000 levels; Value is destroyed and
// dumped recursively, so unbounded depth would overflow a backend's stack.
TEST(JsonParse, DeepNestingIsRejectedInsteadOfOverflowingTheStack) {
  std::string deep(524000, '[');
  deep += std::string(524000, ']');
  ParseError e;
  auto v = sk::json::parse(deep, &e);
  EXPECT_FALSE(v.has_value());
  EXPECT_FALSE(e.message.empty());
}
