#include "app/store_errors.hpp"

#include "store/item_store.hpp"

namespace crud::app {

core::api_error item_not_found() {
  return core::make_error(core::error_code::not_found, "Item not found");
}

core::api_error from_store_error(const boost::system::error_code& ec) {
  if (ec == store::errc::not_found)
    return item_not_found();
  core::api_error e;
  if (ec == store::errc::unavailable) {
    e = core::make_error(core::error_code::unavailable,
                         "The service is temporarily unavailable; retry later");
    e.retry_after_s = 1;
  } else {
    e = core::make_error(core::error_code::internal, "Internal server error");
  }
  e.cause = ec.message();
  return e;
}

}  // namespace crud::app
