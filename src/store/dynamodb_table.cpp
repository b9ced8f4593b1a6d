#include "store/dynamodb_table.hpp"

#include <boost/json.hpp>

#include "store/dynamodb_common.hpp"

namespace crud::store {
namespace {

using aws::dynamodb_error;
using dynamodb_detail::describe;
using dynamodb_detail::where;

constexpr std::string_view ttl_attribute = "expiresAt";

// TimeToLiveDescription: TimeToLiveStatus (ENABLING, ENABLED, DISABLING, DISABLED) and the
// AttributeName, which DynamoDB leaves out while TTL is DISABLED.
struct ttl_description {
  std::string status;
  std::string attribute;
};

aws::ddb_result<ttl_description> describe_ttl(aws::dynamodb_client& client,
                                              const std::string& table) {
  boost::json::object body{{"TableName", table}};
  auto text = client.call({}, "DescribeTimeToLive", boost::json::serialize(body));
  if (!text)
    return text.error();
  boost::system::error_code ec;
  const auto v = boost::json::parse(*text, ec);
  const auto* d =
      !ec && v.is_object() ? v.get_object().if_contains("TimeToLiveDescription") : nullptr;
  const auto* status =
      d != nullptr && d->is_object() ? d->get_object().if_contains("TimeToLiveStatus") : nullptr;
  if (status == nullptr || !status->is_string()) {
    dynamodb_error e;
    e.what = dynamodb_error::kind::bad_response;
    e.message = "DescribeTimeToLive: no TimeToLiveDescription.TimeToLiveStatus";
    return e;
  }
  ttl_description out{std::string(status->get_string()), {}};
  if (const auto* name = d->get_object().if_contains("AttributeName"); name && name->is_string())
    out.attribute = std::string(name->get_string());
  return out;
}

}  // namespace

boost::system::result<dynamodb_init_report, std::string> init_dynamodb_table(
    const dynamodb_options& options, const dynamodb_store_deps& deps) {
  auto made = dynamodb_detail::make_client(options, deps);
  if (!made)
    return made.error();
  auto& client = **made;
  dynamodb_init_report report;
  auto fail = [&](std::string_view step, const dynamodb_error& e) {
    return std::string(step) + " " + where(options) + ": " + describe(e);
  };

  auto status = client.describe_table_status({}, options.table);
  if (!status && status.error().is("ResourceNotFoundException")) {
    auto created = client.create_table({}, options.table);
    if (!created && !created.error().is("ResourceInUseException"))
      return fail("cannot create", created.error());
    report.created = static_cast<bool>(created);
    status = client.describe_table_status({}, options.table);
  }
  const std::int64_t give_up = deps.clock.wall_ms() + options.table_active_timeout_ms;
  while (status && *status != "ACTIVE" && deps.clock.wall_ms() < give_up) {
    if (deps.sleep)
      deps.sleep(options.table_poll_interval_ms);
    status = client.describe_table_status({}, options.table);
  }
  if (!status)
    return fail("cannot describe", status.error());
  if (*status != "ACTIVE")
    return where(options) + " is still " + *status + " after waiting";

  // Enabling TTL takes DynamoDB up to an hour, during which every other UpdateTimeToLive fails
  // with a ValidationException: a second init must see that it is on its way and leave it.
  bool ttl_wanted = true;
  if (auto ttl = describe_ttl(client, options.table)) {
    const bool on = ttl->status == "ENABLED" || ttl->status == "ENABLING";
    if (on && ttl->attribute != ttl_attribute)
      return where(options) + " has TTL on " + ttl->attribute +
             ", not expiresAt: a table has one TTL attribute; disable it first";
    if (ttl->status == "DISABLING")
      return "TTL on " + where(options) +
             " is being disabled, and DynamoDB accepts no change until that is over: run init "
             "again later";
    ttl_wanted = !on;
  } else if (!ttl.error().is("UnknownOperationException")) {
    return fail("cannot describe TTL of", ttl.error());
  }
  if (ttl_wanted) {
    auto ttl = client.update_time_to_live({}, options.table, ttl_attribute, true);
    if (!ttl) {
      const auto& e = ttl.error();
      // Another init enabled it since DescribeTimeToLive.
      const bool already =
          e.is("ValidationException") && e.message.find("already enabled") != std::string::npos;
      if (e.is("UnknownOperationException")) {
        report.warnings.push_back(
            "this DynamoDB engine does not support UpdateTimeToLive: "
            "soft-deleted items and idempotency records will not expire");
      } else if (!already) {
        return fail("cannot enable TTL on expiresAt for", e);
      }
    }
  }

  auto key_id = dynamodb_detail::cursor_key_id_of(options);
  if (!key_id)
    return where(options) + ": " + key_id.error();
  auto secret = dynamodb_detail::ensure_cursor_secret(client, options.table, *key_id, deps.random);
  if (!secret)
    return fail("cannot write the cursor secret to", secret.error());
  return report;
}

}  // namespace crud::store
