#include "cli/table.h"

#include <algorithm>
#include <map>

namespace scoria::cli {
namespace {

size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> Lines(const std::string& cell) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t nl = cell.find('\n', start);
    out.push_back(cell.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace

std::string RenderTable(const Row& header, const std::vector<Row>& rows) {
  const size_t cols = header.size();
  std::vector<size_t> width(cols, 0);
  auto measure = [&](const Row& row) {
    for (size_t c = 0; c < cols && c < row.size(); ++c) {
      for (const auto& line : Lines(row[c])) width[c] = std::max(width[c], Width(line));
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);

  std::string border = "+";
  for (size_t c = 0; c < cols; ++c) border += std::string(width[c] + 2, '-') + "+";
  border += "\n";

  std::string out = border;
  auto emit = [&](const Row& row) {
    std::vector<std::vector<std::string>> cells(cols);
    size_t height = 1;
    for (size_t c = 0; c < cols; ++c) {
      cells[c] = c < row.size() ? Lines(row[c]) : std::vector<std::string>{""};
      height = std::max(height, cells[c].size());
    }
    for (size_t l = 0; l < height; ++l) {
      out += "|";
      for (size_t c = 0; c < cols; ++c) {
        std::string text = l < cells[c].size() ? cells[c][l] : "";
        out += " " + text + std::string(width[c] - Width(text), ' ') + " |";
      }
      out += "\n";
    }
  };
  emit(header);
  out += border;
  for (const auto& row : rows) emit(row);
  out += border;  // also after an empty body: prettytable prints two borders then
  return out;
}

std::string CellText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "None";
  if (value.is_boolean()) return value.get<bool>() ? "True" : "False";
  return value.dump();
}

std::string ListCell(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object()) return "-";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "-";
  return CellText(*it);
}

std::string RenderList(const nlohmann::json& items, const std::vector<Column>& columns) {
  Row header;
  for (const Column& c : columns) header.push_back(c.header);
  return RenderList(items, header, [&columns](const nlohmann::json& item) {
    Row row;
    for (const Column& c : columns) row.push_back(ListCell(item, c.key));
    return row;
  });
}

std::string RenderList(const nlohmann::json& items, const Row& header,
                       const std::function<Row(const nlohmann::json&)>& row) {
  std::vector<Row> rows;
  for (const auto& item : items) rows.push_back(row(item));
  return RenderTable(header, rows);
}

std::string RenderProperties(const nlohmann::json& object, const std::string& key_header,
                             const std::string& value_header,
                             const std::vector<std::string>& skip) {
  std::vector<Row> rows;
  if (object.is_object()) {
    std::map<std::string, std::string> sorted;
    for (const auto& [k, v] : object.items()) {
      if (std::find(skip.begin(), skip.end(), k) != skip.end()) continue;
      sorted[k] = CellText(v);
    }
    for (auto& [k, v] : sorted) rows.push_back({k, v});
  }
  return RenderTable({key_header, value_header}, rows);
}

}  // namespace scoria::cli
