#include "dead_letter_cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/time.h"
#include "nlohmann/json.hpp"
#include "pantau/outbox/pg_store.h"
#include "pantau/outbox/sqlite_store.h"

namespace pantau::outbox::cli {
namespace {

std::string Rfc3339(absl::Time t) { return base::FormatRfc3339Millis(t); }

nlohmann::json ToJson(const Message& m) {
  nlohmann::json h = nlohmann::json::object();
  for (const auto& [k, v] : m.headers) h[k] = v;
  return {{"id", m.id},
          {"topic", m.topic},
          {"key", m.key},
          {"type", m.type},
          {"payload_bytes", m.payload.size()},
          {"headers", h},
          {"created_at", Rfc3339(m.created_at)},
          {"attempts", m.attempts},
          {"last_error", m.last_error}};
}

// Calls `chunk` with a row limit until it deletes fewer; the total.
template <typename F>
absl::StatusOr<int64_t> CleanupAll(F&& chunk) {
  constexpr int64_t kChunk = 5000;
  int64_t total = 0;
  while (true) {
    absl::StatusOr<int64_t> n = chunk(kChunk);
    if (!n.ok()) return n.status();
    total += *n;
    if (*n < kChunk) return total;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<RelayStore>> OpenStore(const std::string& db) {
  if (absl::StartsWith(db, "postgres://") ||
      absl::StartsWith(db, "postgresql://") || absl::StrContains(db, "host=") ||
      absl::StrContains(db, "dbname=")) {
    auto s = PgStore::Open(db);
    if (!s.ok()) return s.status();
    return std::unique_ptr<RelayStore>(std::move(*s));
  }
  std::string path = absl::StartsWith(db, "sqlite:") ? db.substr(7) : db;
  // Opening would create a missing file; a typo should be an error instead.
  if (access(path.c_str(), F_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("no database file ", path));
  }
  auto s = SqliteStore::Open(path);
  if (!s.ok()) return s.status();
  return std::unique_ptr<RelayStore>(std::move(*s));
}

int Run(int argc, const char* const* argv, std::ostream& out,
        std::ostream& err) {
  CLI::App app{"Dead letters, stats and cleanup of a pantau outbox",
               "pantau-outbox"};
  std::string db;
  app.add_option("--db", db, "SQLite path or PostgreSQL connection string")
      ->required();
  app.require_subcommand(1);

  CLI::App* dead = app.add_subcommand("dead", "Dead letters");
  dead->require_subcommand(1);
  CLI::App* list = dead->add_subcommand("list", "List dead letters");
  int limit = 100;
  std::string after;
  bool json = false;
  list->add_option("--limit", limit, "At most this many")
      ->check(CLI::Range(1, 100000));
  list->add_option("--after", after, "Start after this message id");
  list->add_flag("--json", json, "One JSON object per line");
  CLI::App* replay =
      dead->add_subcommand("replay", "Make dead letters pending again");
  std::vector<std::string> ids;
  bool all = false;
  replay->add_option("ids", ids, "Message ids");
  replay->add_flag("--all", all, "Every dead letter");

  CLI::App* stats =
      app.add_subcommand("stats", "Pending, lag and dead letters");
  CLI::App* cleanup =
      app.add_subcommand("cleanup", "Delete old delivered rows");
  std::string retention = "24h", inbox_window;
  cleanup->add_option("--retention", retention,
                      "Keep delivered rows this long");
  cleanup->add_option("--inbox-window", inbox_window,
                      "Also forget inbox ids older than this");

  // CLI11 reports parse errors by throwing; this is the one place we catch.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? 0 : 2;
  }

  auto store = OpenStore(db);
  if (!store.ok()) {
    err << "pantau-outbox: " << store.status() << "\n";
    return 1;
  }
  absl::Time now = absl::Now();
  if (list->parsed()) {
    auto dl = (*store)->ListDead(limit, after);
    if (!dl.ok()) {
      err << "pantau-outbox: " << dl.status() << "\n";
      return 1;
    }
    if (!json) out << "ID\tTOPIC\tKEY\tATTEMPTS\tCREATED\tLAST_ERROR\n";
    for (const Message& m : *dl) {
      if (json) {
        out << ToJson(m).dump(-1, ' ', false,
                              nlohmann::json::error_handler_t::replace)
            << "\n";
      } else {
        out << m.id << "\t" << m.topic << "\t" << m.key << "\t" << m.attempts
            << "\t" << Rfc3339(m.created_at) << "\t" << m.last_error << "\n";
      }
    }
    return 0;
  }
  if (replay->parsed()) {
    if (all == !ids.empty()) {
      err << "pantau-outbox: give message ids or --all (not both)\n";
      return 2;
    }
    auto n = (*store)->Replay(ids, now);
    if (!n.ok()) {
      err << "pantau-outbox: " << n.status() << "\n";
      return 1;
    }
    out << "replayed " << *n << "\n";
    return ids.empty() || *n == static_cast<int64_t>(ids.size()) ? 0 : 1;
  }
  if (stats->parsed()) {
    auto st = (*store)->Stats(now);
    if (!st.ok()) {
      err << "pantau-outbox: " << st.status() << "\n";
      return 1;
    }
    out << "pending " << st->pending << "\n"
        << "oldest_pending_age " << base::FormatDuration(st->oldest_pending_age)
        << "\n"
        << "dead " << st->dead << "\n";
    return 0;
  }
  if (cleanup->parsed()) {
    auto keep = base::ParseDuration(retention);
    if (!keep.ok()) {
      err << "pantau-outbox: --retention: " << keep.status() << "\n";
      return 2;
    }
    // Chunk by chunk, so the relays and producers of a live outbox do
    // not wait for the whole deletion.
    auto n = CleanupAll([&](int64_t limit) {
      return (*store)->CleanupDelivered(now - *keep, limit);
    });
    if (!n.ok()) {
      err << "pantau-outbox: " << n.status() << "\n";
      return 1;
    }
    out << "deleted_delivered " << *n << "\n";
    if (!inbox_window.empty()) {
      auto window = base::ParseDuration(inbox_window);
      if (!window.ok()) {
        err << "pantau-outbox: --inbox-window: " << window.status() << "\n";
        return 2;
      }
      auto k = CleanupAll([&](int64_t limit) {
        return (*store)->CleanupInbox(now - *window, limit);
      });
      if (!k.ok()) {
        err << "pantau-outbox: " << k.status() << "\n";
        return 1;
      }
      out << "deleted_inbox " << *k << "\n";
    }
    return 0;
  }
  return 2;
}

}  // namespace pantau::outbox::cli
