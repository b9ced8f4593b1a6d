#include "app/router.hpp"

#include <gtest/gtest.h>

namespace crud::app {
namespace {

TEST(Router, MatchesTheItemsRoutes) {
  EXPECT_EQ(match_route("/items", false).route, route_id::collection);
  auto item = match_route("/items/item_01ARYZ6S41TSV4RRFFQ69G5FAV", false);
  EXPECT_EQ(item.route, route_id::item);
  EXPECT_EQ(item.item_id, "item_01ARYZ6S41TSV4RRFFQ69G5FAV");
  auto restore = match_route("/items/abc/restore", false);
  EXPECT_EQ(restore.route, route_id::restore);
  EXPECT_EQ(restore.item_id, "abc");
}

TEST(Router, UnknownShapesMatchNothing) {
  for (std::string_view path : {"/", "", "/items/", "/items//restore", "/items/a/b",
                                "/items/a/restore/x", "/itemsx", "/Items", "/health"}) {
    EXPECT_EQ(match_route(path, false).route, route_id::none) << path;
  }
}

TEST(Router, LocalRoutesExistOnlyWhenTheTransportHasThem) {
  EXPECT_EQ(match_route("/health", true).route, route_id::health);
  EXPECT_EQ(match_route("/metrics", true).route, route_id::metrics);
  EXPECT_EQ(match_route("/metrics", false).route, route_id::none);
  EXPECT_EQ(match_route("/openapi.json", true).route, route_id::openapi);
  EXPECT_EQ(match_route("/docs", true).route, route_id::docs);
  EXPECT_EQ(match_route("/docs/swagger-ui.css", true).route, route_id::docs);
  EXPECT_EQ(match_route("/docsx", true).route, route_id::none);
  EXPECT_EQ(match_route("/openapi.json", false).route, route_id::none);
  EXPECT_EQ(match_route("/docs", false).route, route_id::none);
  EXPECT_TRUE(is_local(route_id::openapi));
  EXPECT_TRUE(is_local(route_id::docs));
  EXPECT_TRUE(is_local(route_id::health));
  EXPECT_FALSE(is_local(route_id::item));
}

TEST(Router, MethodsNameTheirOperation) {
  EXPECT_EQ(operation_for(route_id::collection, "GET"), operation::list_items);
  EXPECT_EQ(operation_for(route_id::collection, "HEAD"), operation::list_items);
  EXPECT_EQ(operation_for(route_id::collection, "POST"), operation::create_item);
  EXPECT_EQ(operation_for(route_id::item, "PATCH"), operation::patch_item);
  EXPECT_EQ(operation_for(route_id::item, "DELETE"), operation::delete_item);
  EXPECT_EQ(operation_for(route_id::restore, "POST"), operation::restore_item);
  EXPECT_EQ(operation_for(route_id::collection, "DELETE"), operation::unknown);
  EXPECT_EQ(operation_for(route_id::item, "get"), operation::unknown);  // methods are exact
  EXPECT_FALSE(route_has_method(route_id::restore, "GET"));
  EXPECT_TRUE(route_has_method(route_id::health, "HEAD"));
}

TEST(Router, AllowListsWhatTheDeploymentServes) {
  const operation_set all;
  EXPECT_EQ(allow_header(route_id::collection, all, false), "GET, HEAD, POST");
  EXPECT_EQ(allow_header(route_id::item, all, true), "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(allow_header(route_id::restore, all, false), "POST");
  const operation_set read_only{false, true, false, false};
  EXPECT_EQ(allow_header(route_id::collection, read_only, false), "GET, HEAD");
  EXPECT_EQ(allow_header(route_id::restore, read_only, true), "OPTIONS");
  EXPECT_EQ(allow_header(route_id::metrics, read_only, true), "GET, HEAD");
}

TEST(Router, OperationSetsServeTheirOperations) {
  const operation_set update_only{false, false, true, false};
  EXPECT_TRUE(serves(update_only, operation::update_item));
  EXPECT_TRUE(serves(update_only, operation::patch_item));
  EXPECT_TRUE(serves(update_only, operation::restore_item));
  EXPECT_FALSE(serves(update_only, operation::get_item));
  EXPECT_FALSE(serves(operation_set{}, operation::unknown));
}

}  // namespace
}  // namespace crud::app
