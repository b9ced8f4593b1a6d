#include "store/sqlite_schema.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <string>

#include "store/sqlite_connection.hpp"
#include "support/sqlite_test_support.hpp"

namespace crud::store {
namespace {

using testing::fixed_random;
using testing::raw_db;
using testing::temp_dir;

TEST(SqliteSchema, MigratesAFreshDatabaseAndCreatesTheSecret) {
  temp_dir dir;
  auto conn = sqlite_connection::open(dir.file("s.db"), {});
  ASSERT_TRUE(conn.has_value());
  fixed_random random(0x42);
  auto secret = migrate_sqlite_schema(**conn, random);
  ASSERT_TRUE(secret.has_value()) << secret.error();
  EXPECT_EQ(*secret, std::string(32, '\x42'));
  EXPECT_FALSE((*conn)->in_transaction());

  raw_db raw(dir.file("s.db"));
  EXPECT_EQ(raw.scalar("SELECT max(version) FROM schema_version"), sqlite_schema_latest_version());
  for (const char* table : {"items", "idempotency", "meta", "schema_version"}) {
    const std::string sql =
        std::string("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '") +
        table + "'";
    EXPECT_EQ(raw.scalar(sql.c_str()), 1) << table;
  }
  EXPECT_EQ(raw.scalar("SELECT length(value) FROM meta WHERE key = 'cursor_secret'"), 32);
}

TEST(SqliteSchema, MigratingAgainChangesNothing) {
  temp_dir dir;
  auto conn = sqlite_connection::open(dir.file("s.db"), {});
  ASSERT_TRUE(conn.has_value());
  fixed_random first(0x01);
  fixed_random second(0x02);
  auto a = migrate_sqlite_schema(**conn, first);
  auto b = migrate_sqlite_schema(**conn, second);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value()) << b.error();
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(second.calls(), 0);
  EXPECT_EQ(raw_db(dir.file("s.db")).scalar("SELECT count(*) FROM schema_version"),
            sqlite_schema_latest_version());
}

TEST(SqliteSchema, RefusesADatabaseFromANewerBuild) {
  temp_dir dir;
  auto conn = sqlite_connection::open(dir.file("s.db"), {});
  ASSERT_TRUE(conn.has_value());
  fixed_random random;
  ASSERT_TRUE(migrate_sqlite_schema(**conn, random).has_value());
  raw_db raw(dir.file("s.db"));
  ASSERT_EQ(raw.exec("INSERT INTO schema_version (version) VALUES (999)"), SQLITE_OK);
  auto again = migrate_sqlite_schema(**conn, random);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().find("999"), std::string::npos) << again.error();
  EXPECT_FALSE((*conn)->in_transaction());
}

TEST(SqliteSchema, AFailedMigrationLeavesNothingBehind) {
  temp_dir dir;
  auto conn = sqlite_connection::open(dir.file("s.db"), {});
  ASSERT_TRUE(conn.has_value());
  // A table in the way makes migration 1 fail part-way.
  ASSERT_EQ((*conn)->exec("CREATE TABLE items (x INTEGER)"), SQLITE_OK);
  fixed_random random;
  auto result = migrate_sqlite_schema(**conn, random);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(result.error().find("migration 1"), std::string::npos) << result.error();
  EXPECT_FALSE((*conn)->in_transaction());
  raw_db raw(dir.file("s.db"));
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'meta'"), 0);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM sqlite_schema WHERE name = 'schema_version'"), 0);
}

}  // namespace
}  // namespace crud::store
