#include "main/options.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace crud::main {
namespace {

// Sets an environment variable for one test and restores it after.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name))  // NOLINT(concurrency-mt-unsafe): tests
      old_ = old;
    ::setenv(name, value, 1);  // NOLINT(concurrency-mt-unsafe)
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
    else
      ::unsetenv(name_.c_str());  // NOLINT(concurrency-mt-unsafe)
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

parse_result parse(std::vector<std::string> args) {
  args.insert(args.begin(), "crud-api");
  std::vector<char*> argv;
  argv.reserve(args.size());
  for (auto& a : args)
    argv.push_back(a.data());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(Options, AnErrorFromTheEnvironmentNamesTheVariable) {
  scoped_env port("PORT", "abc");
  auto r = parse({"serve"});
  ASSERT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.error.rfind("PORT:", 0), 0U) << r.error;
}

TEST(Options, AnErrorFromTheCommandLineNamesTheFlag) {
  scoped_env port("PORT", "8080");
  auto r = parse({"serve", "--port", "abc"});
  ASSERT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.error.rfind("--port:", 0), 0U) << r.error;
}

TEST(Options, ValidationAfterParsingNamesTheVariableToo) {
  scoped_env endpoint("DYNAMODB_ENDPOINT", "ftp://example.com");
  auto r = parse({"init", "--store", "dynamodb"});
  ASSERT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.error.rfind("DYNAMODB_ENDPOINT:", 0), 0U) << r.error;
}

TEST(Options, EachCommandTakesOnlyItsOwnOptions) {
  EXPECT_FALSE(
      parse({"serve", "--port", "0", "--rate-limit", "5", "--cors-origin", "x"}).exit_code);
  EXPECT_EQ(parse({"init", "--port", "0"}).exit_code, 2);
  EXPECT_EQ(parse({"init", "--cors-origin", "https://example.com"}).exit_code, 2);
  EXPECT_EQ(parse({"invoke", "--rate-limit", "5"}).exit_code, 2);
  EXPECT_FALSE(parse({"invoke", "--delete-mode", "soft", "--event", "-"}).exit_code);
  EXPECT_FALSE(parse({"init", "--db", "x.db", "--log-level", "debug"}).exit_code);
}

TEST(Options, ExportAndImportTakeTheStoreOptionsAndTheirFiles) {
  auto r = parse({"export", "--store", "dynamodb", "--table", "t", "--out", "backup.jsonl"});
  ASSERT_FALSE(r.exit_code);
  EXPECT_EQ(r.opts.cmd, command::export_items);
  EXPECT_EQ(r.opts.store, store_kind::dynamodb);
  EXPECT_EQ(r.opts.out_file, "backup.jsonl");
  r = parse({"import", "--db", "x.db", "--in", "backup.jsonl", "--overwrite"});
  ASSERT_FALSE(r.exit_code);
  EXPECT_EQ(r.opts.cmd, command::import_items);
  EXPECT_EQ(r.opts.store, store_kind::sqlite);
  EXPECT_EQ(r.opts.in_file, "backup.jsonl");
  EXPECT_TRUE(r.opts.overwrite);
  r = parse({"import"});
  EXPECT_EQ(r.opts.in_file, "-");
  EXPECT_FALSE(r.opts.overwrite);
  EXPECT_EQ(parse({"export"}).opts.out_file, "-");
  // They move stored items as they are: no API or server settings, and no mixing of files.
  EXPECT_EQ(parse({"import", "--delete-mode", "soft"}).exit_code, 2);
  EXPECT_EQ(parse({"export", "--port", "0"}).exit_code, 2);
  EXPECT_EQ(parse({"export", "--in", "x"}).exit_code, 2);
  EXPECT_EQ(parse({"import", "--out", "x"}).exit_code, 2);
}

TEST(Options, TheFilesOfInvokeExportAndImportComeFromTheFlagOrTheEnvironment) {
  scoped_env event("CRUD_EVENT", "event.json");
  scoped_env out("CRUD_EXPORT_OUT", "backup.jsonl");
  scoped_env in("CRUD_IMPORT_IN", "restore.jsonl");
  scoped_env overwrite("CRUD_IMPORT_OVERWRITE", "1");
  EXPECT_EQ(parse({"invoke"}).opts.event_file, "event.json");
  EXPECT_EQ(parse({"invoke", "--event", "-"}).opts.event_file, "-");
  EXPECT_EQ(parse({"export"}).opts.out_file, "backup.jsonl");
  EXPECT_EQ(parse({"export", "--out", "other.jsonl"}).opts.out_file, "other.jsonl");
  auto r = parse({"import"});
  ASSERT_FALSE(r.exit_code);
  EXPECT_EQ(r.opts.in_file, "restore.jsonl");
  EXPECT_TRUE(r.opts.overwrite);
}

TEST(Options, MaxConnectionsPerClientComesFromTheFlagOrTheEnvironment) {
  EXPECT_EQ(parse({"serve"}).opts.max_connections_per_client, 256);
  EXPECT_EQ(parse({"serve", "--max-connections-per-client", "0"}).opts.max_connections_per_client,
            0);
  scoped_env cap("CRUD_MAX_CONNECTIONS_PER_CLIENT", "40");
  EXPECT_EQ(parse({"serve"}).opts.max_connections_per_client, 40);
  EXPECT_EQ(parse({"serve", "--max-connections-per-client", "-1"}).exit_code, 2);
  EXPECT_EQ(parse({"init", "--max-connections-per-client", "3"}).exit_code, 2);
}

TEST(Options, AVariableForAnotherCommandIsIgnored) {
  // PORT means nothing to init, so a bad one cannot stop it.
  scoped_env port("PORT", "abc");
  EXPECT_FALSE(parse({"init", "--db", "x.db"}).exit_code);
}

TEST(Options, UsageNamesTheProgram) {
  testing::internal::CaptureStdout();
  auto r = parse({"init", "--help"});
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(out.find("Usage: crud-api init [OPTIONS]"), std::string::npos) << out;
  EXPECT_EQ(out.find("--port"), std::string::npos) << out;
  EXPECT_EQ(out.find("--rate-limit"), std::string::npos) << out;
  EXPECT_EQ(out.find("--cors-origin"), std::string::npos) << out;
}

}  // namespace
}  // namespace crud::main
