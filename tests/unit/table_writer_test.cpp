#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "daemon/table_writer.h"

namespace mb {
namespace {

std::string render(OutputFormat f, const std::vector<std::vector<Cell>>& rows) {
    char* buf = nullptr;
    std::size_t len = 0;
    std::FILE* out = open_memstream(&buf, &len);
    {
        TableWriter w(out, f, {"name", "value"});
        for (const auto& r : rows) w.row(r);
        w.finish();
    }
    std::fclose(out);
    std::string s(buf, len);
    std::free(buf);
    return s;
}

TEST(TableWriter, CsvQuotesPerRfc4180) {
    EXPECT_EQ(render(OutputFormat::csv, {{Cell{"a,b"}, Cell{"1.5", true}},
                                         {Cell{"say \"hi\""}, Cell{"", false, true}}}),
              "name,value\n\"a,b\",1.5\n\"say \"\"hi\"\"\",\n");
}

TEST(TableWriter, JsonIsAnArrayOfObjectsWithTypes) {
    EXPECT_EQ(render(OutputFormat::json,
                     {{Cell{"x\n\"y\""}, Cell{"2", true}}, {Cell{"z"}, Cell{"", false, true}}}),
              "[\n{\"name\":\"x\\n\\\"y\\\"\",\"value\":2},\n{\"name\":\"z\",\"value\":null}\n]\n");
    EXPECT_EQ(render(OutputFormat::json, {}), "[]\n");
}

TEST(TableWriter, TableAlignsColumns) {
    EXPECT_EQ(render(OutputFormat::table,
                     {{Cell{"long-name"}, Cell{"1", true}}, {Cell{"n"}, Cell{"100", true}}}),
              "name       value\n---------  -----\nlong-name      1\nn            100\n(2 rows)\n");
}

// A terminal obeys escape sequences: the table shows them escaped (and aligns
// on what it shows); CSV and JSON keep the stored bytes.
TEST(TableWriter, TableEscapesControlCharactersCsvAndJsonKeepThem) {
    const std::vector<std::vector<Cell>> rows{{Cell{"\x1b[2Jcid\n<0>x"}, Cell{"1", true}}};
    EXPECT_EQ(render(OutputFormat::table, rows),
              "name            value\n--------------  -----\n\\e[2Jcid\\n<0>x      1\n"
              "(1 row)\n");
    EXPECT_EQ(render(OutputFormat::csv, rows), "name,value\n\"\x1b[2Jcid\n<0>x\",1\n");
    EXPECT_EQ(render(OutputFormat::json, rows),
              "[\n{\"name\":\"\\u001b[2Jcid\\n<0>x\",\"value\":1}\n]\n");
}

TEST(TableWriter, NumbersRoundTrip) {
    EXPECT_EQ(format_number(0.1), "0.1");
    EXPECT_EQ(format_number(125.5), "125.5");
    EXPECT_EQ(format_number(1e21), "1e+21");
    EXPECT_EQ(std::stod(format_number(1.0 / 3)), 1.0 / 3);
}

}  // namespace
}  // namespace mb
