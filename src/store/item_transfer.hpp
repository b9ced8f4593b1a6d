#pragma once
// Bulk access to a store for `crud-api export` and `crud-api import` (CONTRACT §5), apart from
// the request path's item_store: it reads every owner's items, soft-deleted ones included, and
// writes items exactly as given (ids, versions, timestamps, soft-delete state and expiry kept),
// which no API call may do. One record is a core::item_record, the line format's content.
//
// Export order is fixed: by owner, then by id, both compared as bytes, so the export of the
// same items is the same file from either store. Import leaves an existing item (same owner
// and id) alone unless asked to overwrite it, so an interrupted import can be run again.
// Errors are one-line reasons for the person running the command.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "core/item_line.hpp"

namespace crud::store {

template <class T>
using transfer_result = boost::system::result<T, std::string>;

enum class import_outcome : std::uint8_t {
  written,  // stored (created, or replaced with overwrite)
  skipped,  // the item existed and was left alone
};

class item_transfer {
 public:
  virtual ~item_transfer() = default;

  // Gets each record; an error from it stops the export and is returned.
  using record_sink = std::function<transfer_result<void>(const core::item_record&)>;
  // Told about a stored record that is not a readable item (which is then left out): where it
  // is ("owner/id" or the key) and why.
  using bad_record_sink = std::function<void(std::string_view where, std::string_view reason)>;

  // Every item of every owner, in export order.
  virtual transfer_result<void> export_items(const record_sink& sink,
                                             const bad_record_sink& bad) = 0;

  // Writes `records`, each in turn, so a later record with the same owner and id sees the
  // earlier one as existing. One outcome per record, in order. On an error nothing can be said
  // of the records of this call: some may have been written.
  virtual transfer_result<std::vector<import_outcome>> import_items(
      std::span<const core::item_record> records, bool overwrite) = 0;

  // How many records an import_items call should carry for the store to do its best.
  virtual std::size_t import_batch_size() const noexcept = 0;
};

}  // namespace crud::store
