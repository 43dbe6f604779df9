// What a decoder says about a payload that is not one JSON document: the
// payload as a whole, not where a parser stopped in it.
#include <gtest/gtest.h>

#include <string>

#include "normalize/detail_text.h"

namespace mb {
namespace {

TEST(JsonDocumentProblem, APayloadThatIsNoJsonAtAllSaysSo) {
    for (const char* text : {"not json", "nope", "nul", "<meter/>", "} {", "hello world", " x"})
        EXPECT_EQ(json_document_problem(text), "not a JSON document") << text;
}

TEST(JsonDocumentProblem, BytesAfterACompleteDocumentAreNamedWithTheirOffset) {
    EXPECT_EQ(json_document_problem(R"({"a": [1, "}"]} x)"),
              "trailing bytes after the JSON document (from byte 15)");
    EXPECT_EQ(json_document_problem("[1]\n[2]"),
              "trailing bytes after the JSON document (from byte 3)");
    EXPECT_EQ(json_document_problem(R"({"a": 1}})"),
              "trailing bytes after the JSON document (from byte 8)");
    EXPECT_EQ(json_document_problem(R"( "s\"" x)"),
              "trailing bytes after the JSON document (from byte 6)");
    EXPECT_EQ(json_document_problem("42 x"),
              "trailing bytes after the JSON document (from byte 2)");
    EXPECT_EQ(json_document_problem("[1, 2]]]"),
              "trailing bytes after the JSON document (from byte 6)");
    EXPECT_EQ(json_document_problem("null,"),
              "trailing bytes after the JSON document (from byte 4)");
}

// Everything else is the parser's to describe: nothing, a valid document,
// one cut short or broken inside (also when something follows it).
TEST(JsonDocumentProblem, OtherwiseTheParsersTextStands) {
    for (const char* text :
         {"", " \n", R"({"a": 1})", "{\"a\": 1}\r\n", "true", "-", "01", R"({"a": )", "[1, 2",
          R"("open)", R"({"a": tru} x)", R"({"a": 1, } x)"})
        EXPECT_EQ(json_document_problem(text), "") << text;
}

TEST(JsonDocumentProblem, MalformedDetailPrefersTheWholePayload) {
    EXPECT_EQ(json_malformed_detail("not json", "not valid JSON"), "not a JSON document");
    EXPECT_EQ(json_malformed_detail("[1, 2", "not valid JSON"), "not valid JSON");
}

}  // namespace
}  // namespace mb
