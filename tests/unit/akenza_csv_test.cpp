#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "normalize/akenza/csv.h"

namespace mb::akenza {
namespace {

using Cells = std::vector<std::string>;

TEST(AkenzaCsv, QuotedCellsBlanksAndLineEnds) {
    std::vector<CsvRow> rows;
    ASSERT_EQ(parse_csv(" a , \"b,\"\"c\"\"\" \r\n\n1;2\r\"x\ny\",z", ',', rows), "");
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].line, 1U);
    EXPECT_EQ(rows[0].cells, (Cells{"a ", "b,\"c\""}));
    EXPECT_EQ(rows[1].line, 3U);  // the blank line 2 is skipped
    EXPECT_EQ(rows[1].cells, (Cells{"1;2"}));
    EXPECT_EQ(rows[2].line, 4U);
    EXPECT_EQ(rows[2].cells, (Cells{"x\ny", "z"}));
}

TEST(AkenzaCsv, DelimiterIsNotPadding) {
    std::vector<CsvRow> rows;
    ASSERT_EQ(parse_csv("a\t\tb", '\t', rows), "");
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].cells, (Cells{"a", "", "b"}));
}

// Only at the very start: a byte order mark anywhere else is text of its cell.
TEST(AkenzaCsv, AByteOrderMarkAtTheStartIsNotPartOfTheFirstCell) {
    std::vector<CsvRow> rows;
    ASSERT_EQ(parse_csv("\xEF\xBB\xBF\"time\",energy\r\n\xEF\xBB\xBFx,1", ',', rows), "");
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_EQ(rows[0].line, 1U);
    EXPECT_EQ(rows[0].cells, (Cells{"time", "energy"}));
    EXPECT_EQ(rows[1].cells, (Cells{"\xEF\xBB\xBFx", "1"}));
}

TEST(AkenzaCsv, Malformed) {
    std::vector<CsvRow> rows;
    EXPECT_EQ(parse_csv("a\n\"open\nstill", ',', rows),
              "text/csv line 2: unterminated quoted cell");
    EXPECT_EQ(parse_csv("\"q\" x,1", ',', rows),
              "text/csv line 1: unexpected text after a quoted cell");
    EXPECT_EQ(parse_csv("a,b\"c", ',', rows), "text/csv line 1: '\"' inside an unquoted cell");
}

}  // namespace
}  // namespace mb::akenza
