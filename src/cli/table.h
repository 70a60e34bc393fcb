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
// CellText is how a JSON value appears in a cell: strings raw, null as "None", booleans
// "True"/"False" (what Python prints for the cinder client), everything else compact JSON.
// Pure functions; no I/O.
#pragma once

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

std::string CellText(const nlohmann::json& value);

// For list columns: like CellText but a missing member or null shows as "-" (cinder's
// print_list does the same).
std::string ListCell(const nlohmann::json& object, const std::string& key);

}  // namespace scoria::cli
