#include "app/media_type.hpp"

#include <gtest/gtest.h>

namespace crud::app {
namespace {

TEST(MediaType, AcceptsJsonTypes) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON; charset=UTF-8"));
  EXPECT_TRUE(is_json_media_type("application/merge-patch+json"));
  EXPECT_TRUE(is_json_media_type("application/vnd.api+json; charset=\"utf-8\""));
}

TEST(MediaType, RefusesEverythingElse) {
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_FALSE(is_json_media_type("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_json_media_type("application/json; charset=latin1"));
  EXPECT_FALSE(is_json_media_type("application/jsonx"));
  EXPECT_FALSE(is_json_media_type(""));
  EXPECT_FALSE(is_json_media_type(std::nullopt)) << "a write must say what its body is";
}

}  // namespace
}  // namespace crud::app
