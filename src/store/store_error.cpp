#include "store/store_error.hpp"

#include <string>

namespace crud::store {
namespace {
class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "crud.store"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::not_found:
        return "not found";
      case errc::condition_failed:
        return "condition failed";
      case errc::already_exists:
        return "already exists";
      case errc::unavailable:
        return "store unavailable";
      case errc::internal:
        return "store internal error";
    }
    return "unknown store error";
  }
};
}  // namespace

const boost::system::error_category& store_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace crud::store
