#include "core/envelope.hpp"

#include "core/json_text.hpp"

namespace crud::core {
namespace {
void open(std::string& out, int status) {
  out.append(R"({"statusCode":)");
  append_json_int(out, status);
}

void close_with_message(std::string& out, std::string_view message) {
  if (!message.empty()) {
    out.append(R"(,"message":)");
    append_json_string(out, message);
  }
  out.push_back('}');
}
}  // namespace

std::string success_envelope(int status, std::string_view data_json, std::string_view message) {
  std::string out;
  out.reserve(data_json.size() + message.size() + 48);
  open(out, status);
  out.append(R"(,"data":)");
  out.append(data_json);
  close_with_message(out, message);
  return out;
}

std::string item_envelope(int status, const item& it, std::string_view message) {
  std::string out;
  out.reserve(220 + it.name.size() + it.description.size() + message.size());
  open(out, status);
  out.append(R"(,"data":)");
  append_item_json(out, it);
  close_with_message(out, message);
  return out;
}

std::string list_envelope(std::span<const item> items, int limit,
                          const std::optional<std::string>& last_key) {
  std::string out;
  out.reserve(96 + items.size() * 256);
  open(out, 200);
  out.append(R"(,"data":[)");
  bool first = true;
  for (const auto& it : items) {
    if (!first)
      out.push_back(',');
    first = false;
    append_item_json(out, it);
  }
  out.append(R"(],"pagination":{"limit":)");
  append_json_int(out, limit);
  out.append(R"(,"count":)");
  append_json_int(out, static_cast<std::int64_t>(items.size()));
  out.append(R"(,"lastKey":)");
  if (last_key) {
    append_json_string(out, *last_key);
  } else {
    out.append("null");
  }
  out.append("}}");
  return out;
}

std::string error_envelope(const api_error& error, std::string_view request_id) {
  std::string out;
  out.reserve(160 + error.message.size() * 2 + error.details.size() * 64);
  open(out, error.http_status());
  out.append(R"(,"message":)");
  append_json_string(out, error.message);
  out.append(R"(,"error":{"code":")");
  out.append(code_name(error.code));
  out.append(R"(","message":)");
  append_json_string(out, error.message);
  if (!error.details.empty()) {
    out.append(R"(,"details":[)");
    bool first = true;
    for (const auto& d : error.details) {
      if (!first)
        out.push_back(',');
      first = false;
      out.append(R"({"field":)");
      append_json_string(out, d.field);
      out.append(R"(,"reason":)");
      append_json_string(out, d.reason);
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.append(R"(},"requestId":)");
  append_json_string(out, request_id);
  out.push_back('}');
  return out;
}

}  // namespace crud::core
