#include "app/request_handler.hpp"

#include <utility>

#include "app/store_errors.hpp"

namespace crud::app {
namespace {

// For handlers that only implement handle(): all of it runs in run(), and a failed commit then
// answers again with the store's error.
class handled_response final : public pending_response {
 public:
  handled_response(request_handler& handler, const request& req, const transport_hooks& hooks)
      : handler_(handler), req_(req), hooks_(hooks) {}

  void run() noexcept override { res_ = handler_.handle(req_, hooks_); }

  response settle(const boost::system::error_code& commit) noexcept override {
    if (commit)
      return handler_.reject(req_, from_store_error(commit));
    return std::move(res_);
  }

 private:
  request_handler& handler_;
  const request& req_;
  const transport_hooks& hooks_;
  response res_;
};

}  // namespace

std::unique_ptr<pending_response> request_handler::prepare(const request& req,
                                                           const transport_hooks& hooks) noexcept {
  try {
    return std::make_unique<handled_response>(*this, req, hooks);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace crud::app
