#include "core/cursor.hpp"

#include <gtest/gtest.h>

#include "core/crypto.hpp"

#include <string>
#include <vector>

namespace crud::core {
namespace {

constexpr std::string_view id = "item_01ARYZ6S41TSV4RRFFQ69G5FAV";

TEST(Cursor, RoundTripsForTheSameOwner) {
  cursor_codec codec("0123456789abcdef0123456789abcdef");
  auto token = codec.encode("public", id);
  EXPECT_EQ(codec.decode("public", token), std::string(id));
}

TEST(Cursor, RejectsTamperingAndForeignTokens) {
  cursor_codec codec("0123456789abcdef0123456789abcdef");
  cursor_codec other("another secret key of 32 bytes..");
  auto token = codec.encode("public", id);
  EXPECT_FALSE(codec.decode("alice", token));   // another owner's cursor
  EXPECT_FALSE(other.decode("public", token));  // another deployment's key
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string flipped = token;
    flipped[i] = flipped[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(codec.decode("public", flipped)) << i;
  }
  EXPECT_FALSE(codec.decode("public", token.substr(0, token.size() - 1)));
  EXPECT_FALSE(codec.decode("public", token + "A"));
  EXPECT_FALSE(codec.decode("public", ""));
  EXPECT_FALSE(codec.decode("public", "garbage"));
  EXPECT_FALSE(codec.decode("public", std::string(1000, 'A')));
}

TEST(Cursor, RejectsAValidlySignedNonId) {
  cursor_codec codec("0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(codec.decode("public", codec.encode("public", "not-an-id")));
}

TEST(Cursor, VersionTwoNamesItsKeyAndSignsIt) {
  cursor_codec east("us-east-1", "0123456789abcdef0123456789abcdef");
  auto token = east.encode("public", id);
  EXPECT_TRUE(token.ends_with(".us-east-1")) << token;
  EXPECT_EQ(east.decode("public", token), std::string(id));
  auto parsed = cursor_codec::parse(token);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->key_id, "us-east-1");
  EXPECT_EQ(parsed->last_id, id);
  EXPECT_TRUE(cursor_codec::verify("public", *parsed, "0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(cursor_codec::verify("alice", *parsed, "0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(cursor_codec::verify("public", *parsed, "another secret key of 32 bytes.."));
  // The key id is signed: renaming it to another key's id with the same secret fails.
  std::string renamed = token.substr(0, token.size() - 9) + "eu-west-1";
  auto moved = cursor_codec::parse(renamed);
  ASSERT_TRUE(moved);
  EXPECT_FALSE(cursor_codec::verify("public", *moved, "0123456789abcdef0123456789abcdef"));
  // A codec for another key id does not take it as its own.
  cursor_codec west("eu-west-1", "0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(west.decode("public", token));
}

TEST(Cursor, VersionOneCursorsStillParseWithAnEmptyKeyId) {
  cursor_codec legacy("0123456789abcdef0123456789abcdef");
  auto token = legacy.encode("public", id);
  EXPECT_EQ(token.find('.'), token.rfind('.'));
  auto parsed = cursor_codec::parse(token);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->key_id, "");
  EXPECT_TRUE(cursor_codec::verify("public", *parsed, "0123456789abcdef0123456789abcdef"));
  // A version 2 codec verifies it only through the key it names: the legacy one.
  cursor_codec east("us-east-1", "0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(east.decode("public", token));
}

TEST(Cursor, RejectsMalformedKeyIds) {
  cursor_codec east("us-east-1", "0123456789abcdef0123456789abcdef");
  auto token = east.encode("public", id);
  auto body = token.substr(0, token.rfind('.'));
  for (const std::string& bad :
       std::vector<std::string>{"", "US-EAST-1", "-x", "a.b", "a/b", std::string(33, 'a')})
    EXPECT_FALSE(cursor_codec::parse(std::string(body).append(".").append(bad))) << bad;
  EXPECT_TRUE(cursor_codec::valid_key_id("ap-southeast-2"));
  EXPECT_FALSE(cursor_codec::valid_key_id(""));
}

}  // namespace
}  // namespace crud::core

namespace crud::core {
namespace {

TEST(Cursor, AcceptsOnlyTheFullTagOfTheSameOwner) {
  // Each probe is valid base64url, so only the tag comparison can refuse it.
  cursor_codec codec("0123456789abcdef0123456789abcdef");
  const std::string token = codec.encode("public", id);
  const std::string head = token.substr(0, token.find('.') + 1);
  const std::string tag = *base64url_decode(token.substr(token.find('.') + 1));
  ASSERT_EQ(tag.size(), 16U);
  std::string wrong = tag;
  for (char& c : wrong)
    c = static_cast<char>(c ^ 0x5a);
  for (const std::string& probe : {std::string(), tag.substr(0, 1), tag.substr(0, 15), wrong,
                                   std::string(16, '\0'), tag + 'x'}) {
    EXPECT_FALSE(codec.decode("public", head + base64url_encode(probe)))
        << "a tag of " << probe.size() << " bytes passed";
  }
  // Another owner's tag for the same id.
  const std::string alices = codec.encode("alice", id);
  EXPECT_EQ(codec.decode("alice", alices), std::string(id));
  EXPECT_FALSE(codec.decode("public", head + alices.substr(alices.find('.') + 1)));
}

TEST(Cursor, VerifyComparesTheWholeTagWhateverItsLength) {
  // verify is public: it must not lean on parse having checked the tag's length.
  const std::string key = "0123456789abcdef0123456789abcdef";
  cursor_codec codec(key);
  auto parsed = cursor_codec::parse(codec.encode("public", id));
  ASSERT_TRUE(parsed);
  ASSERT_TRUE(cursor_codec::verify("public", *parsed, key));
  const std::string tag = parsed->tag;
  for (const std::string& probe :
       {std::string(), tag.substr(0, 1), tag.substr(0, 15), tag + 'x', tag + tag}) {
    parsed->tag = probe;
    EXPECT_FALSE(cursor_codec::verify("public", *parsed, key))
        << "a tag of " << probe.size() << " bytes passed";
  }
}

}  // namespace
}  // namespace crud::core
