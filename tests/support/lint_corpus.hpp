// The labelled lint corpus (tests/lint/corpus, format in its README), for the tests that read it:
// where it is, a file's text, and a case's `-- key: value` header.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace zerodown::testing {

inline std::filesystem::path LintCorpusDir() {
  return std::filesystem::path(ZERODOWN_SOURCE_DIR) / "tests" / "lint" / "corpus";
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The header of a case ("verdict" -> "dangerous", "pg-version" -> "15", …): its leading
// `-- key: value` lines.
inline std::map<std::string, std::string> CorpusHeader(const std::string& text) {
  std::map<std::string, std::string> header;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line) && line.rfind("-- ", 0) == 0;) {
    const std::size_t colon = line.find(": ");
    if (colon != std::string::npos) header[line.substr(3, colon - 3)] = line.substr(colon + 2);
  }
  return header;
}

}  // namespace zerodown::testing
