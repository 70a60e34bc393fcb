// Human output in the shape of cinderclient's prettytable: a border line, a header row, a
// separator, one row per item (a cell may span several lines), a closing border; cells are
// left-aligned and padded with one space. Widths count UTF-8 code points. An empty table
// prints its header and borders only, as prettytable does.
//
//   +------+-----------+
//   | ID   | Status    |
//   +------+-----------+
//   | 7f0… | available |
//   +------+-----------+
//
// The list verbs (volumes, snapshots, backups, types, attachments, admin lists) render a JSON
// array with RenderList: one row per item, either a cell per Column (the item's member through
// ListCell) or a row built by the verb for computed cells.
//
// CellText is how a JSON value appears in a cell: strings raw, null as "None", booleans
// "True"/"False" (what Python prints for the cinder client), everything else compact JSON.
// Pure functions; no I/O.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace scoria::cli {

using Row = std::vector<std::string>;

// Renders header + rows. Rows shorter than the header are padded with empty cells.
std::string RenderTable(const Row& header, const std::vector<Row>& rows);

// A two-column table ("Property"/"Value" by default) of an object's members sorted by key.
// Members named in `skip` are left out (cinder hides "links").
std::string RenderProperties(const nlohmann::json& object,
                             const std::string& key_header = "Property",
                             const std::string& value_header = "Value",
                             const std::vector<std::string>& skip = {"links"});

// A list column: its header and the member of each item it shows (through ListCell).
struct Column {
  std::string header;
  std::string key;
};

// One row per element of `items` (a JSON array, as ListAll returns), cell c being
// ListCell(item, columns[c].key).
std::string RenderList(const nlohmann::json& items, const std::vector<Column>& columns);

// One row per element of the array `items`, made by `row` (for cells that are not one member).
std::string RenderList(const nlohmann::json& items, const Row& header,
                       const std::function<Row(const nlohmann::json&)>& row);

std::string CellText(const nlohmann::json& value);

// For list columns: like CellText but a missing member or null shows as "-" (cinder's
// print_list does the same).
std::string ListCell(const nlohmann::json& object, const std::string& key);

}  // namespace scoria::cli
