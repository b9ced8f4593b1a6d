#include "store/sqlite_transfer.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "store/sqlite_store.hpp"
#include "support/sqlite_test_support.hpp"

namespace crud::store {
namespace {

using testing::fixed_random;
using testing::temp_dir;

constexpr std::int64_t t0 = 1'700'000'000'000;

core::item make_item(std::string id, std::int64_t version = 1) {
  core::item it;
  it.id = std::move(id);
  it.name = "name " + it.id.substr(it.id.size() - 2);
  it.created_at = t0;
  it.updated_at = t0 + version;
  it.version = version;
  return it;
}

std::vector<core::item_record> export_all(item_transfer& transfer) {
  std::vector<core::item_record> out;
  auto done = transfer.export_items(
      [&](const core::item_record& r) -> transfer_result<void> {
        out.push_back(r);
        return {};
      },
      [](std::string_view where, std::string_view why) { ADD_FAILURE() << where << ": " << why; });
  EXPECT_TRUE(done.has_value()) << done.error();
  return out;
}

TEST(SqliteTransfer, ExportsWhatTheStoreWroteInOwnerThenIdOrder) {
  temp_dir dir;
  fixed_random random;
  const std::string path = dir.file("items.db");
  {
    sqlite_options options;
    options.path = path;
    auto store = open_sqlite_store(options, random);
    ASSERT_TRUE(store.has_value()) << store.error();
    ASSERT_TRUE((*store)->create_item({}, "b", make_item("item_01JDQ3G6X0S6PZ9R6X7Y8Z9A02")));
    ASSERT_TRUE((*store)->create_item({}, "b", make_item("item_01JDQ3G6X0S6PZ9R6X7Y8Z9A01")));
    auto deleted = make_item("item_01JDQ3G6X0S6PZ9R6X7Y8Z9A03");
    ASSERT_TRUE((*store)->create_item({}, "a", deleted));
    deleted.version = 2;
    deleted.deleted_at = t0 + 1500;  // the store keeps it until 30 days after, in ms
    ASSERT_TRUE((*store)->replace_item({}, "a", deleted, 1));
  }
  auto transfer = open_sqlite_transfer({path, false}, random);
  ASSERT_TRUE(transfer.has_value()) << transfer.error();
  const auto records = export_all(**transfer);
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[0].owner, "a");
  EXPECT_EQ(records[0].stored.deleted_at, t0 + 1500);
  EXPECT_EQ(records[0].expires_at, core::ttl_seconds(t0 + 1500 + core::soft_delete_retention_ms));
  EXPECT_EQ(records[1].stored.id, "item_01JDQ3G6X0S6PZ9R6X7Y8Z9A01");
  EXPECT_EQ(records[2].stored.id, "item_01JDQ3G6X0S6PZ9R6X7Y8Z9A02");
  EXPECT_FALSE(records[2].expires_at.has_value());
}

TEST(SqliteTransfer, ImportKeepsEveryFieldAndTheStoreServesIt) {
  temp_dir dir;
  fixed_random random;
  const std::string path = dir.file("new/items.db");
  core::item_record r{"o", make_item("item_01JDQ3G6X0S6PZ9R6X7Y8Z9A07", 5), std::nullopt};
  {
    auto transfer = open_sqlite_transfer({path, true}, random);
    ASSERT_TRUE(transfer.has_value()) << transfer.error();
    std::vector<core::item_record> batch{r, r};
    auto out = (*transfer)->import_items(batch, false);
    ASSERT_TRUE(out.has_value()) << out.error();
    EXPECT_EQ(*out,
              (std::vector<import_outcome>{import_outcome::written, import_outcome::skipped}));
  }
  sqlite_options options;
  options.path = path;
  auto store = open_sqlite_store(options, random);
  ASSERT_TRUE(store.has_value()) << store.error();
  auto got = (*store)->get_item({}, "o", r.stored.id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, r.stored);
}

TEST(SqliteTransfer, ExportOfAMissingFileIsAnErrorNotAnEmptyExport) {
  temp_dir dir;
  fixed_random random;
  auto transfer = open_sqlite_transfer({dir.file("missing.db"), false}, random);
  ASSERT_FALSE(transfer.has_value());
  EXPECT_NE(transfer.error().find("missing.db"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.file("missing.db")));
}

}  // namespace
}  // namespace crud::store
