#include "core/cursor.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace crud::core
