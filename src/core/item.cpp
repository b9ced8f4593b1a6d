#include "core/item.hpp"

#include "core/json_text.hpp"
#include "core/timestamp.hpp"

namespace crud::core {

void append_item_json(std::string& out, const item& it) {
  out.append(R"({"id":)");
  append_json_string(out, it.id);
  out.append(R"(,"name":)");
  append_json_string(out, it.name);
  out.append(R"(,"description":)");
  append_json_string(out, it.description);
  out.append(R"(,"createdAt":")");
  append_timestamp(out, it.created_at);
  out.append(R"(","updatedAt":")");
  append_timestamp(out, it.updated_at);
  out.append(R"(","version":)");
  append_json_int(out, it.version);
  if (it.deleted_at) {
    out.append(R"(,"deletedAt":")");
    append_timestamp(out, *it.deleted_at);
    out.push_back('"');
  }
  out.push_back('}');
}

std::string item_json(const item& it) {
  std::string out;
  out.reserve(160 + it.name.size() + it.description.size());
  append_item_json(out, it);
  return out;
}

std::string etag_for(std::string_view id, std::int64_t version) {
  std::string tag;
  tag.reserve(id.size() + 24);
  tag.push_back('"');
  tag.append(id);
  tag.append(".v");
  append_json_int(tag, version);
  tag.push_back('"');
  return tag;
}

}  // namespace crud::core
