#include "bluegreen/pgbouncer_include.hpp"

#include <fmt/format.h>
#include <fmt/std.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace zerodown::bluegreen {
namespace {

namespace fs = std::filesystem;

// An `%include` line: the file it sits in and its number, as errors name it.
struct IncludeLine {
  fs::path file;
  int number = 0;
};

// One search for an entry's line through a file and its includes, depth first as PgBouncer reads
// them; the section in force is carried from file to file as PgBouncer's parser carries it.
class EntrySearch {
 public:
  EntrySearch(std::string_view name, const IniFiles& files) : name_(name), files_(files) {}

  // Reads `file` (included by `from`, or the ini itself when null) and every file it includes.
  Status Read(const fs::path& file, const IncludeLine* from);
  std::optional<EntryLocation> found() && { return std::move(found_); }

 private:
  Status Include(const std::string& written, const IncludeLine& from);
  Status Found(const fs::path& file, const std::string& text, DatabaseLine line, int number);

  std::string name_;
  const IniFiles& files_;
  std::vector<fs::path> reading_;  // the files being read, the ini first
  bool in_databases_ = false;
  std::optional<EntryLocation> found_;
};

Error IncludeError(ErrorKind kind, const IncludeLine& from, const std::string& what,
                   std::string fix) {
  return Error(
      kind,
      fmt::format("the PgBouncer ini file {} at line {} {}", from.file.string(), from.number, what),
      std::move(fix));
}

Status EntrySearch::Read(const fs::path& file, const IncludeLine* from) {
  auto text = files_.read(file);
  if (!text) {
    if (from == nullptr) {
      return Error(ErrorKind::kNotFound,
                   fmt::format("the PgBouncer ini file {} cannot be read: {}", file.string(),
                               text.error().message()),
                   "Point --pgbouncer-ini at the file PgBouncer was started with.");
    }
    return IncludeError(
        ErrorKind::kNotFound, *from,
        fmt::format("includes {}, which cannot be read: {}", file.string(), text.error().message()),
        fmt::format("PgBouncer reads a relative %include from its own working directory and "
                    "zerodown from its own ({}): run the switch from the directory PgBouncer was "
                    "started in, or write the path in the %include line absolute.",
                    files_.working_directory.string()));
  }
  reading_.push_back(file);
  std::vector<DatabaseLine> lines = Lines(*text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    IniLine line = ClassifyLine(lines[i].text);
    int number = static_cast<int>(i) + 1;
    Status step = Status::Ok();
    if (line.kind == IniLineKind::kSection) in_databases_ = line.databases;
    if (line.kind == IniLineKind::kInclude) step = Include(line.value, {file, number});
    if (line.kind == IniLineKind::kEntry && in_databases_ && line.value == name_) {
      step = Found(file, *text, std::move(lines[i]), number);
    }
    if (!step) return step;
  }
  reading_.pop_back();
  return Status::Ok();
}

Status EntrySearch::Include(const std::string& written, const IncludeLine& from) {
  fs::path file =
      fs::path(written).is_absolute() ? fs::path(written) : files_.working_directory / written;
  file = file.lexically_normal();
  if (std::find(reading_.begin(), reading_.end(), file) != reading_.end()) {
    return IncludeError(ErrorKind::kConflict, from,
                        fmt::format("includes {}, which is already being read: the includes form "
                                    "a cycle, and PgBouncer would refuse to load them",
                                    file.string()),
                        "Remove the %include that leads back to a file that includes it.");
  }
  // The ini itself is level 0; PgBouncer refuses an %include read at level kMaxIncludeDepth.
  if (static_cast<int>(reading_.size()) > kMaxIncludeDepth) {
    return IncludeError(ErrorKind::kConflict, from,
                        fmt::format("includes {} deeper than the {} levels PgBouncer follows",
                                    file.string(), kMaxIncludeDepth),
                        "Include the file from a shallower one.");
  }
  return Read(file, &from);
}

Status EntrySearch::Found(const fs::path& file, const std::string& text, DatabaseLine line,
                          int number) {
  if (found_) {
    return Error(ErrorKind::kConflict,
                 fmt::format("the PgBouncer ini names the entry \"{}\" twice in [databases]: in "
                             "{} at line {} and in {} at line {}",
                             name_, found_->file.string(), found_->number, file.string(), number),
                 "Keep one line for it (PgBouncer takes the last one read), and switch again.");
  }
  found_ = EntryLocation{file, text, std::move(line), number};
  return Status::Ok();
}

}  // namespace

IniFiles DiskIniFiles() {
  std::error_code error;
  fs::path cwd = fs::current_path(error);
  return {cwd, [](const fs::path& path) -> Result<std::string> {
            std::ifstream in(path, std::ios::binary);
            if (!in) return Error(ErrorKind::kNotFound, std::strerror(errno));
            std::ostringstream text;
            text << in.rdbuf();
            return text.str();
          }};
}

Result<std::optional<EntryLocation>> FindDatabaseEntry(const fs::path& ini, std::string_view name,
                                                       const IniFiles& files) {
  EntrySearch search(name, files);
  fs::path top = ini.is_absolute() ? ini : files.working_directory / ini;
  if (Status read = search.Read(top.lexically_normal(), nullptr); !read) return read.error();
  return std::move(search).found();
}

}  // namespace zerodown::bluegreen
