// Integration tests of `crud-api export` and `crud-api import` (CONTRACT §5), on the built
// binary. The TransferDynamoDb suite moves 10,000 items over several owners, some soft-deleted,
// from SQLite to DynamoDB and back, and requires the two SQLite exports to be byte for byte the
// same; CTest runs it on dynalite and on moto_server (CRUD_DYNAMODB_ENGINE). The Transfer suite
// covers the line handling and the exit codes on SQLite.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/dynamodb_engine.hpp"
#include "support/temp_dir.hpp"

namespace crud::transfer_it {
namespace {

namespace json = boost::json;
using test_support::env_list;
using test_support::run_result;

constexpr std::string_view crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// A valid item id for `n`: the ULID's 26 characters are n in base 32, zero-padded.
std::string item_id(std::uint64_t n) {
  std::string ulid(26, '0');
  for (std::size_t i = 26; i-- > 0 && n > 0; n /= 32)
    ulid[i] = crockford[n % 32];
  return "item_" + ulid;
}

std::string json_text(std::string_view s) {
  return json::serialize(json::string(s));
}

// `count` lines over seven owners, every tenth soft-deleted (every twentieth with an expiresAt of
// its own), in shuffled order so that export order is the store's doing.
std::string generated_lines(int count, std::string_view name_prefix = "Item") {
  const std::vector<std::string> owners = {
      "public",
      "user-1",
      "auth0|abc",
      "arn:aws:iam::123456789012:user/alice",
      "cognito:us-east-1:0a1b2c3d",
      "\xc3\xbcnic\xc3\xb6"
      "de",
      "space \"quoted\"",
  };
  std::vector<std::string> lines;
  lines.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    std::string item =
        R"({"id":")" + item_id(1'000'000 + static_cast<std::uint64_t>(i)) + R"(","name":)" +
        json_text(std::string(name_prefix) + " " + std::to_string(i)) + R"(,"description":)" +
        json_text(i % 3 == 0 ? "" : "line\none \xe2\x9c\x93\ttab") +
        R"(,"createdAt":"2026-11-30T10:00:00.123Z","updatedAt":"2026-12-01T08:15:30.000Z","version":)" +
        std::to_string(1 + i % 5);
    if (i % 10 == 0) {
      // Deleted a moment ago, so that no engine's TTL can expire it during the test.
      item += R"(,"deletedAt":"2026-12-01T09:00:00.000Z")";
      if (i % 20 == 0)
        item += R"(,"expiresAt":)" + std::to_string(4'102'444'800 + i);
    }
    item += "}";
    lines.push_back(R"({"owner":)" +
                    json_text(owners[static_cast<std::size_t>(i) % owners.size()]) + R"(,"item":)" +
                    item + "}");
  }
  std::mt19937 shuffle_rng(42);
  std::shuffle(lines.begin(), lines.end(), shuffle_rng);
  std::string text;
  for (const auto& l : lines)
    text += l + "\n";
  return text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The summary: the last line of stderr, as JSON.
json::object summary_of(const run_result& r) {
  const auto lines = test_support::lines_of(r.err);
  if (lines.empty())
    return {};
  boost::system::error_code ec;
  auto v = json::parse(lines.back(), ec);
  return !ec && v.is_object() ? v.as_object() : json::object{};
}

std::int64_t field(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_int64() ? v->as_int64() : -1;
}

run_result crud(std::vector<std::string> args, const env_list& env) {
  return test_support::run_crud_api(args, env, std::chrono::seconds(120));
}

env_list sqlite_env(const std::string& db) {
  return {{"CRUD_STORE", "sqlite"}, {"CRUD_DB", db}};
}

// Export lines are in owner-then-id byte order.
bool in_export_order(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& line : test_support::lines_of(text)) {
    auto v = json::parse(line).as_object();
    keys.emplace_back(std::string(v.at("owner").as_string()),
                      std::string(v.at("item").as_object().at("id").as_string()));
  }
  return std::is_sorted(keys.begin(), keys.end());
}

TEST(Transfer, MalformedLinesAreReportedByNumberAndSkipped) {
  test_support::temp_dir dir("crud-transfer");
  const auto good = test_support::lines_of(generated_lines(3));
  const auto file = dir.write_file("in.jsonl", good[0] + "\nnot json\n" + good[1] + "\n\n" +
                                                   R"({"owner":"o","item":{"id":"item_nope"}})" +
                                                   "\n" + good[2] + "\n");
  const auto r = crud({"import", "--in", file.string()}, sqlite_env(dir.file("items.db")));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("line 2: not JSON"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 5: item.id"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("line 4"), std::string::npos) << "a blank line is no record: " << r.err;
  const auto s = summary_of(r);
  EXPECT_EQ(field(s, "imported"), 3) << r.err;
  EXPECT_EQ(field(s, "skipped"), 0);
  EXPECT_EQ(field(s, "failed"), 2);
  // Off a terminal there is no bar: no carriage return, and the summary is the last line.
  EXPECT_EQ(r.err.find('\r'), std::string::npos);

  const auto exported = crud({"export"}, sqlite_env(dir.file("items.db")));
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(test_support::lines_of(exported.out).size(), 3U);
  EXPECT_EQ(field(summary_of(exported), "exported"), 3) << exported.err;
}

TEST(Transfer, ReRunSkipsExistingItemsAndOverwriteReplacesThem) {
  test_support::temp_dir dir("crud-transfer");
  const auto env = sqlite_env(dir.file("items.db"));
  const auto first = dir.write_file("first.jsonl", generated_lines(500));
  ASSERT_EQ(crud({"import", "--in", first.string()}, env).exit_code, 0);

  const auto again = crud({"import", "--in", first.string()}, env);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(field(summary_of(again), "imported"), 0) << again.err;
  EXPECT_EQ(field(summary_of(again), "skipped"), 500);

  // The same ids with other names: left alone, then replaced with --overwrite.
  const auto renamed = dir.write_file("renamed.jsonl", generated_lines(500, "Renamed"));
  const auto kept = crud({"import", "--in", renamed.string()}, env);
  EXPECT_EQ(field(summary_of(kept), "skipped"), 500) << kept.err;
  auto out = crud({"export"}, env).out;
  EXPECT_EQ(out.find("Renamed"), std::string::npos);
  const auto replaced = crud({"import", "--in", renamed.string(), "--overwrite"}, env);
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_EQ(field(summary_of(replaced), "imported"), 500) << replaced.err;
  out = crud({"export"}, env).out;
  EXPECT_EQ(out.find("\"Item "), std::string::npos);
  EXPECT_NE(out.find("\"Renamed 499\""), std::string::npos);
}

TEST(Transfer, ConfigurationErrorsExitTwo) {
  test_support::temp_dir dir("crud-transfer");
  auto r = crud({"export"}, sqlite_env(dir.file("missing.db")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.db"), std::string::npos) << r.err;
  r = crud({"import", "--in", dir.file("missing.jsonl")}, sqlite_env(dir.file("items.db")));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.jsonl"), std::string::npos) << r.err;
  r = crud({"import", "--store", "dynamodb", "--table", ""}, {});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(Transfer, ExportReplacesItsFileOnlyWhenComplete) {
  test_support::temp_dir dir("crud-transfer");
  const auto env = sqlite_env(dir.file("items.db"));
  const auto in = dir.write_file("in.jsonl", generated_lines(50));
  ASSERT_EQ(crud({"import", "--in", in.string()}, env).exit_code, 0);
  const auto r = crud({"export", "--out", dir.file("backup.jsonl")}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(test_support::lines_of(read_file(dir.file("backup.jsonl"))).size(), 50U);
  // Nothing but the database, its WAL files, the input and the backup.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().find(".jsonl."), std::string::npos) << entry.path();
}

class TransferDynamoDb : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = std::make_unique<test_support::dynamodb_engine_process>();
    ASSERT_TRUE(engine_->running()) << engine_->error();
    const auto r = crud({"init"}, ddb_env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  env_list ddb_env() const { return engine_->crud_env("items"); }

  test_support::temp_dir dir_{"crud-transfer"};
  std::unique_ptr<test_support::dynamodb_engine_process> engine_;
};

TEST_F(TransferDynamoDb, RoundTripFromSqliteThroughDynamoDbIsByteIdentical) {
  constexpr int count = 10'000;
  const auto source = dir_.write_file("source.jsonl", generated_lines(count));
  const auto a_env = sqlite_env(dir_.file("a.db"));
  auto r = crud({"import", "--in", source.string()}, a_env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(field(summary_of(r), "imported"), count);
  r = crud({"export", "--out", dir_.file("a.jsonl")}, a_env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string first = read_file(dir_.file("a.jsonl"));
  ASSERT_EQ(test_support::lines_of(first).size(), static_cast<std::size_t>(count));
  EXPECT_TRUE(in_export_order(first));

  r = crud({"import", "--in", dir_.file("a.jsonl")}, ddb_env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(field(summary_of(r), "imported"), count) << r.err;
  r = crud({"export"}, ddb_env());  // to standard output
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(field(summary_of(r), "exported"), count) << r.err;
  // The same order from either store, so even this export is the same file.
  EXPECT_TRUE(r.out == first) << "the DynamoDB export differs from the SQLite one";
  const auto from_dynamodb = dir_.write_file("d.jsonl", r.out);

  const auto b_env = sqlite_env(dir_.file("b.db"));
  r = crud({"import", "--in", from_dynamodb.string()}, b_env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = crud({"export", "--out", dir_.file("b.jsonl")}, b_env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string second = read_file(dir_.file("b.jsonl"));
  EXPECT_EQ(second.size(), first.size());
  EXPECT_TRUE(second == first) << "the two SQLite exports differ";
  EXPECT_NE(second.find(R"("expiresAt":4102444800})"), std::string::npos);
}

TEST_F(TransferDynamoDb, ReRunSkipsExistingItemsAndOverwriteReplacesThem) {
  const auto first = dir_.write_file("first.jsonl", generated_lines(300));
  auto r = crud({"import", "--in", first.string()}, ddb_env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(field(summary_of(r), "imported"), 300) << r.err;

  const auto renamed = dir_.write_file("renamed.jsonl", generated_lines(300, "Renamed"));
  r = crud({"import", "--in", renamed.string()}, ddb_env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(field(summary_of(r), "imported"), 0) << r.err;
  EXPECT_EQ(field(summary_of(r), "skipped"), 300);
  EXPECT_EQ(crud({"export"}, ddb_env()).out.find("Renamed"), std::string::npos);

  r = crud({"import", "--in", renamed.string(), "--overwrite"}, ddb_env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(field(summary_of(r), "imported"), 300) << r.err;
  const auto out = crud({"export"}, ddb_env()).out;
  EXPECT_EQ(out.find("\"Item "), std::string::npos);
  EXPECT_NE(out.find("\"Renamed 299\""), std::string::npos);
  EXPECT_EQ(test_support::lines_of(out).size(), 300U);
}

TEST_F(TransferDynamoDb, ARepeatedIdInOneFileIsWrittenOnceThenSkipped) {
  const auto lines = test_support::lines_of(generated_lines(3));
  const auto file =
      dir_.write_file("dup.jsonl", lines[0] + "\n" + lines[1] + "\n" + lines[0] + "\n" + lines[2]);
  const auto r = crud({"import", "--in", file.string()}, ddb_env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(field(summary_of(r), "imported"), 3) << r.err;
  EXPECT_EQ(field(summary_of(r), "skipped"), 1);
}

}  // namespace
}  // namespace crud::transfer_it
