#include "cli/table.h"

#include <gtest/gtest.h>

namespace scoria::cli {
namespace {

TEST(RenderTable, BordersHeaderAndLeftAlignedRows) {
  EXPECT_EQ(RenderTable({"ID", "Status"}, {{"1", "available"}, {"22", "error"}}),
            "+----+-----------+\n"
            "| ID | Status    |\n"
            "+----+-----------+\n"
            "| 1  | available |\n"
            "| 22 | error     |\n"
            "+----+-----------+\n");
}

TEST(RenderTable, EmptyTablePrintsHeaderAndTwoBordersLikePrettytable) {
  EXPECT_EQ(RenderTable({"ID", "Name"}, {}),
            "+----+------+\n"
            "| ID | Name |\n"
            "+----+------+\n"
            "+----+------+\n");
}

TEST(RenderTable, MultiLineCellsGrowTheRow) {
  EXPECT_EQ(RenderTable({"K", "V"}, {{"a", "x\nlonger"}}),
            "+---+--------+\n"
            "| K | V      |\n"
            "+---+--------+\n"
            "| a | x      |\n"
            "|   | longer |\n"
            "+---+--------+\n");
}

TEST(RenderTable, WidthCountsUtf8CodePoints) {
  EXPECT_EQ(RenderTable({"N"}, {{"\xc3\xa9t\xc3\xa9"}}),  // "été": 3 code points
            "+-----+\n"
            "| N   |\n"
            "+-----+\n"
            "| \xc3\xa9t\xc3\xa9 |\n"
            "+-----+\n");
}

TEST(RenderTable, ShortRowsArePadded) {
  EXPECT_EQ(RenderTable({"A", "B"}, {{"1"}}),
            "+---+---+\n| A | B |\n+---+---+\n| 1 |   |\n+---+---+\n");
}

TEST(CellText, PythonLikeScalarsAndCompactJson) {
  EXPECT_EQ(CellText("abc"), "abc");
  EXPECT_EQ(CellText(nullptr), "None");
  EXPECT_EQ(CellText(true), "True");
  EXPECT_EQ(CellText(false), "False");
  EXPECT_EQ(CellText(3), "3");
  EXPECT_EQ(CellText(nlohmann::json{{"k", "v"}}), "{\"k\":\"v\"}");
}

TEST(ListCell, MissingOrNullIsDash) {
  nlohmann::json o = {{"a", nullptr}, {"b", "x"}};
  EXPECT_EQ(ListCell(o, "a"), "-");
  EXPECT_EQ(ListCell(o, "missing"), "-");
  EXPECT_EQ(ListCell(o, "b"), "x");
}

TEST(RenderList, ColumnsShowEachItemsMemberAsAListCell) {
  nlohmann::json items = {{{"id", "1"}, {"size", 2}, {"name", nullptr}},
                          {{"id", "22"}, {"size", 10}, {"bootable", true}}};
  EXPECT_EQ(
      RenderList(items, {{"ID", "id"}, {"Name", "name"}, {"Size", "size"}, {"B", "bootable"}}),
      "+----+------+------+------+\n"
      "| ID | Name | Size | B    |\n"
      "+----+------+------+------+\n"
      "| 1  | -    | 2    | -    |\n"
      "| 22 | -    | 10   | True |\n"
      "+----+------+------+------+\n");
}

TEST(RenderList, EmptyListIsHeaderAndBorders) {
  EXPECT_EQ(RenderList(nlohmann::json::array(), {{"ID", "id"}}),
            "+----+\n"
            "| ID |\n"
            "+----+\n"
            "+----+\n");
}

TEST(RenderList, RowFunctionMakesEachRow) {
  nlohmann::json items = {{{"n", 1}}, {{"n", 2}}};
  EXPECT_EQ(RenderList(items, {"N", "Twice"},
                       [](const nlohmann::json& item) -> Row {
                         int n = item["n"].get<int>();
                         return {std::to_string(n), std::to_string(2 * n)};
                       }),
            "+---+-------+\n"
            "| N | Twice |\n"
            "+---+-------+\n"
            "| 1 | 2     |\n"
            "| 2 | 4     |\n"
            "+---+-------+\n");
}

TEST(RenderProperties, SortedByKeyWithoutLinks) {
  nlohmann::json v = {
      {"size", 1}, {"id", "x"}, {"links", nlohmann::json::array()}, {"name", nullptr}};
  EXPECT_EQ(RenderProperties(v),
            "+----------+-------+\n"
            "| Property | Value |\n"
            "+----------+-------+\n"
            "| id       | x     |\n"
            "| name     | None  |\n"
            "| size     | 1     |\n"
            "+----------+-------+\n");
}

}  // namespace
}  // namespace scoria::cli
