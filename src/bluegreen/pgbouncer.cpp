#include "bluegreen/pgbouncer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include "bluegreen/pgbouncer_include.hpp"

namespace zerodown::bluegreen {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char* const kConsoleFix =
    "Check --pgbouncer: PgBouncer's listen address and port, a user listed in its admin_users "
    "(its password in the URL or ~/.pgpass), and dbname pgbouncer.";

// The console URL without its password: user@host:port/dbname.
std::string ConsoleName(const std::string& url) {
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(url.c_str(), nullptr), &PQconninfoFree);
  if (!options) return "(an unreadable --pgbouncer URL)";
  std::string user, host, port, dbname;
  for (PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    std::string_view key = o->keyword;
    std::string value = o->val ? o->val : "";
    if (key == "user") user = value;
    if (key == "host") host = value;
    if (key == "port") port = value;
    if (key == "dbname") dbname = value;
  }
  return fmt::format("{}{}:{}/{}", user.empty() ? "" : user + "@", host, port, dbname);
}

// A console answer: the console's SHOW answers are small, so they are copied out of libpq's
// result by column name.
struct Answer {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;

  explicit Answer(const PGresult* result) {
    for (int c = 0; c < PQnfields(result); ++c) columns.emplace_back(PQfname(result, c));
    for (int r = 0; r < PQntuples(result); ++r) {
      auto& row = rows.emplace_back();
      for (int c = 0; c < PQnfields(result); ++c) row.emplace_back(PQgetvalue(result, r, c));
    }
  }
  // The field of `row` in the column named `column`; "" when there is no such row or column.
  std::string Field(int row, std::string_view column) const {
    for (std::size_t c = 0; row >= 0 && c < columns.size(); ++c) {
      if (columns[c] == column) return rows[static_cast<std::size_t>(row)][c];
    }
    return {};
  }
};

// One console session. The console answers every command at once but PAUSE, which waits for the
// entry's server connections to be released (in transaction pooling: running transactions to
// end); each command has a deadline so that neither can hang a switch.
class Console {
 public:
  explicit Console(std::string url) : url_(std::move(url)), name_(ConsoleName(url_)) {}

  const std::string& name() const { return name_; }
  // Runs `command` (the simple query protocol; the console knows no other). An Error naming the
  // command when PgBouncer refuses it or does not answer within `timeout`; then the session is
  // closed (its state is unknown) and the next command opens another.
  Result<Answer> Run(const std::string& command, std::chrono::milliseconds timeout);

 private:
  Result<Answer> Fail(std::string message, std::string fix) {
    conn_.reset();
    return Error(ErrorKind::kMigrationFailed,
                 fmt::format("PgBouncer's console at {} {}", name_, message), std::move(fix));
  }

  std::string url_;
  std::string name_;
  std::optional<pg::Connection> conn_;
};

Result<Answer> Console::Run(const std::string& command, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  if (!conn_) {
    try {
      conn_.emplace(pg::Connection::Open(url_, "zerodown bluegreen"));
    } catch (const Error& e) {
      return Error(
          ErrorKind::kConnection,
          fmt::format("cannot reach PgBouncer's admin console at {}: {}", name_, e.message()),
          kConsoleFix);
    }
  }
  PGconn* raw = conn_->raw();
  if (PQsendQuery(raw, command.c_str()) == 0) {
    return Fail(fmt::format("lost its session sending {}: {}", command, PQerrorMessage(raw)),
                kConsoleFix);
  }
  std::optional<Answer> last;
  std::string refused;
  for (;;) {
    if (PQconsumeInput(raw) == 0) {
      return Fail(fmt::format("lost its session during {}: {}", command, PQerrorMessage(raw)),
                  kConsoleFix);
    }
    while (PQisBusy(raw) == 0) {
      PGresult* result = PQgetResult(raw);
      if (result == nullptr) {
        if (!refused.empty()) {
          return Fail(fmt::format("refused {}: {}", command, refused),
                      "Check the PgBouncer log for why, fix it, and switch again.");
        }
        if (!last) return Fail(fmt::format("gave no answer to {}", command), kConsoleFix);
        return std::move(*last);
      }
      if (PQresultStatus(result) != PGRES_COMMAND_OK && PQresultStatus(result) != PGRES_TUPLES_OK &&
          refused.empty()) {
        const char* message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
        refused = message ? message : PQresultErrorMessage(result);
      }
      last.emplace(result);
      PQclear(result);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return Fail(fmt::format("did not finish {} within {} ms", command, timeout.count()),
                  "End the transactions that keep PgBouncer from pausing (or raise "
                  "--step-timeout), and switch again.");
    }
    pollfd socket{PQsocket(raw), POLLIN, 0};
    ::poll(&socket, 1, static_cast<int>(left.count()));
  }
}

Status FileError(ErrorKind kind, const fs::path& ini, const std::string& what) {
  return Error(kind, fmt::format("the PgBouncer ini file {} {}", ini.string(), what),
               "Point --pgbouncer-ini at the file PgBouncer was started with, and run the switch "
               "as a user that may write that file and its directory (the line is rewritten "
               "through a temporary file and a rename).");
}

// Writes `text` to a temporary file beside `path` with its mode and owner, then renames it over
// `path`: PgBouncer, reloading at any moment, reads the old file or the new one, never half.
Status WriteAtomically(const fs::path& path, const std::string& text) {
  struct stat old {};
  if (::stat(path.c_str(), &old) != 0) {
    return FileError(ErrorKind::kConflict, path, std::string("cannot be read: ") + strerror(errno));
  }
  std::string temp = (path.parent_path() / ("." + path.filename().string() + ".zerodown-XXXXXX"));
  int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return FileError(
        ErrorKind::kConflict, path,
        std::string("cannot be replaced (a temporary file beside it: ") + strerror(errno) + ")");
  }
  bool ok = ::fchmod(fd, old.st_mode & 07777) == 0;
  if (::fchown(fd, old.st_uid, old.st_gid) != 0) {
    // Not root: the file becomes ours, and the mode above still lets PgBouncer read it.
  }
  for (std::size_t at = 0; ok && at < text.size();) {
    ssize_t n = ::write(fd, text.data() + at, text.size() - at);
    ok = n > 0;
    if (ok) at += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    ::unlink(temp.c_str());
    return FileError(ErrorKind::kMigrationFailed, path,
                     std::string("could not be rewritten: ") + strerror(saved));
  }
  return Status::Ok();
}

// The file a symbolic link points at: the rename replaces the file, not the link with a file.
fs::path RealPath(const fs::path& path) {
  std::error_code error;
  fs::path real = fs::canonical(path, error);
  return error ? fs::path(path) : real;
}

class PgBouncerTraffic final : public Traffic {
 public:
  PgBouncerTraffic(const PgBouncerControl& control, Endpoint from, Endpoint to)
      : console_(control.console),
        database_(control.database),
        ini_(RealPath(control.ini)),
        from_(std::move(from)),
        to_(std::move(to)) {}

  Status Prepare(std::chrono::milliseconds timeout) override;
  Status Pause(std::chrono::milliseconds timeout) override;
  Status Move(std::chrono::milliseconds timeout) override { return PointAt(to_, timeout); }
  Status Resume(std::chrono::milliseconds timeout) override {
    auto resumed = console_.Run("RESUME " + Quoted(), timeout);
    return resumed ? Status::Ok() : Status(resumed.error());
  }
  Status Restore(std::chrono::milliseconds timeout) override;

 private:
  // The entry's name as the console's grammar takes it: "…", with "" for a quote.
  std::string Quoted() const;
  // SHOW DATABASES, and the entry's row in it (-1: none).
  struct Shown {
    Answer answer;
    int row = -1;
    std::string Field(std::string_view column) const { return answer.Field(row, column); }
  };
  Result<Shown> Entry(std::chrono::milliseconds timeout);
  // The entry's line and the file that holds it (the ini or a file it includes); an Error naming
  // the file when one is missing or no file has the line.
  Result<EntryLocation> ReadIni();
  // The entry's line pointed at `target`, RELOAD, and a check that PgBouncer now sends the
  // entry there.
  Status PointAt(const Endpoint& target, std::chrono::milliseconds timeout);
  // The entry's line replaced by `line` (unless it reads so already), then RELOAD.
  Status Rewrite(const std::string& line, std::chrono::milliseconds timeout);

  Console console_;
  std::string database_;
  fs::path ini_;
  IniFiles files_ = DiskIniFiles();
  Endpoint from_;
  Endpoint to_;
  std::optional<std::string> original_;  // the entry's line as Prepare found it
};

std::string PgBouncerTraffic::Quoted() const {
  std::string quoted = "\"";
  for (char c : database_) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

Result<PgBouncerTraffic::Shown> PgBouncerTraffic::Entry(std::chrono::milliseconds timeout) {
  auto rows = console_.Run("SHOW DATABASES", timeout);
  if (!rows) return rows.error();
  Shown shown{*rows};
  for (std::size_t i = 0; i < rows->rows.size(); ++i) {
    if (rows->Field(static_cast<int>(i), "name") == database_) shown.row = static_cast<int>(i);
  }
  return shown;
}

Result<EntryLocation> PgBouncerTraffic::ReadIni() {
  auto found = FindDatabaseEntry(ini_, database_, files_);
  if (!found) return found.error();
  if (!*found) {
    return Error(ErrorKind::kNotFound,
                 fmt::format("the PgBouncer ini file {} has no line for the entry \"{}\" in its "
                             "[databases] section, nor does any file it %includes",
                             ini_.string(), database_),
                 "Point --pgbouncer-ini at the file PgBouncer was started with, or add the "
                 "entry's line to it.");
  }
  return std::move(**found);
}

// Where a line sits, as errors name it.
std::string LineName(const EntryLocation& at) {
  return fmt::format("{} line {}", at.file.string(), at.number);
}

Status PgBouncerTraffic::Prepare(std::chrono::milliseconds timeout) {
  auto entry = Entry(timeout);
  if (!entry) return entry.error();
  if (entry->row < 0) {
    std::string names;
    for (std::size_t i = 0; i < entry->answer.rows.size(); ++i) {
      names += (names.empty() ? "" : ", ") + entry->answer.Field(static_cast<int>(i), "name");
    }
    return Error(ErrorKind::kNotFound,
                 fmt::format("PgBouncer at {} has no database entry \"{}\" (SHOW DATABASES "
                             "lists: {})",
                             console_.name(), database_, names),
                 "Pass --pgbouncer-database as the name the application connects to: its line "
                 "in the [databases] section of the ini file.");
  }
  if (std::error_code missing; !fs::exists(ini_, missing)) {
    return FileError(ErrorKind::kNotFound, ini_, "does not exist");
  }
  auto read = ReadIni();
  if (!read) return read.error();
  fs::path file = RealPath(read->file);
  if (::access(file.c_str(), R_OK | W_OK) != 0 ||
      ::access(file.parent_path().c_str(), W_OK | X_OK) != 0) {
    return FileError(ErrorKind::kConflict, file,
                     "or its directory is not writable by zerodown, which rewrites the entry's "
                     "line there");
  }
  if (auto line = PointLineAt(read->line.text, to_); !line) {
    return line.error().WithWhere(LineName(*read));
  }
  original_ = read->line.text;
  return Status::Ok();
}

Status PgBouncerTraffic::Pause(std::chrono::milliseconds timeout) {
  auto paused = console_.Run("PAUSE " + Quoted(), timeout);
  if (paused) return Status::Ok();
  // A RESUME while a PAUSE waits leaves that PAUSE waiting for ever (pgbouncer#715): Run closed
  // the session that waits, and the entry is resumed from a new one, so that no pause stays
  // behind holding every client of the entry.
  (void)console_.Run("RESUME " + Quoted(), timeout);
  return paused.error();
}

Status PgBouncerTraffic::Rewrite(const std::string& line, std::chrono::milliseconds timeout) {
  auto read = ReadIni();
  if (!read) return read.error();
  if (read->line.text != line) {
    Status written =
        WriteAtomically(RealPath(read->file), ReplaceLine(read->text, read->line, line));
    if (!written) return written;
  }
  auto reloaded = console_.Run("RELOAD", timeout);
  return reloaded ? Status::Ok() : Status(reloaded.error());
}

Status PgBouncerTraffic::PointAt(const Endpoint& target, std::chrono::milliseconds timeout) {
  auto read = ReadIni();
  if (!read) return read.error();
  auto line = PointLineAt(read->line.text, target);
  if (!line) return line.error().WithWhere(LineName(*read));
  if (Status rewritten = Rewrite(*line, timeout); !rewritten) return rewritten;
  auto entry = Entry(timeout);
  if (!entry) return entry.error();
  Endpoint now{entry->Field("host"), entry->Field("port"), entry->Field("database")};
  if (now != target) {
    return Error(ErrorKind::kMigrationFailed,
                 fmt::format("after RELOAD, PgBouncer at {} sends \"{}\" to host={} port={} "
                             "dbname={}, not to host={} port={} dbname={} as {} says",
                             console_.name(), database_, now.host, now.port, now.dbname,
                             target.host, target.port, target.dbname, LineName(*read)),
                 "Check that --pgbouncer-ini is the file this PgBouncer was started with, and "
                 "its log for why the reload did not take.");
  }
  return Status::Ok();
}

Status PgBouncerTraffic::Restore(std::chrono::milliseconds timeout) {
  // The line as Prepare found it; a rerun after a kill never saw it, and points it at `from_`.
  Status back = original_ ? Rewrite(*original_, timeout) : PointAt(from_, timeout);
  if (!back) return back;
  auto entry = Entry(timeout);
  if (!entry) return entry.error();
  // A timed-out PAUSE was resumed already, and RESUME on an entry not paused is refused.
  if (entry->Field("paused") == "0") return Status::Ok();
  return Resume(timeout);
}

}  // namespace

Endpoint EndpointOf(const pg::Connection& conn) {
  return {PQhost(conn.raw()), PQport(conn.raw()), PQdb(conn.raw())};
}

std::unique_ptr<Traffic> MakePgBouncerTraffic(const PgBouncerControl& control, Endpoint from,
                                              Endpoint to) {
  return std::make_unique<PgBouncerTraffic>(control, std::move(from), std::move(to));
}

}  // namespace zerodown::bluegreen
