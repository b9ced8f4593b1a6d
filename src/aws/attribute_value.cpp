#include "aws/attribute_value.hpp"

#include <charconv>
#include <memory>

#include <boost/json.hpp>

namespace crud::aws {

attribute_value attribute_value::string(std::string s) {
  attribute_value v;
  v.type = kind::s;
  v.text = std::move(s);
  return v;
}

attribute_value attribute_value::number(std::int64_t n) {
  return number_text(std::to_string(n));
}

attribute_value attribute_value::number_text(std::string decimal) {
  attribute_value v;
  v.type = kind::n;
  v.text = std::move(decimal);
  return v;
}

attribute_value attribute_value::boolean(bool b) {
  attribute_value v;
  v.type = kind::boolean;
  v.flag = b;
  return v;
}

attribute_value attribute_value::null_value() {
  return attribute_value{};
}

attribute_value attribute_value::string_set(std::vector<std::string> values) {
  attribute_value v;
  v.type = kind::ss;
  v.set = std::move(values);
  return v;
}

attribute_value attribute_value::number_set(std::vector<std::string> decimals) {
  attribute_value v;
  v.type = kind::ns;
  v.set = std::move(decimals);
  return v;
}

attribute_value attribute_value::of_map(attribute_map m) {
  attribute_value v;
  v.type = kind::m;
  v.map = std::make_shared<attribute_map>(std::move(m));
  return v;
}

attribute_value attribute_value::of_list(attribute_list l) {
  attribute_value v;
  v.type = kind::l;
  v.list = std::make_shared<attribute_list>(std::move(l));
  return v;
}

std::optional<std::int64_t> attribute_value::as_int64() const {
  if (type != kind::n)
    return std::nullopt;
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return out;
}

bool operator==(const attribute_value& a, const attribute_value& b) {
  if (a.type != b.type)
    return false;
  switch (a.type) {
    case attribute_value::kind::s:
    case attribute_value::kind::n:
      return a.text == b.text;
    case attribute_value::kind::boolean:
      return a.flag == b.flag;
    case attribute_value::kind::null:
      return true;
    case attribute_value::kind::ss:
    case attribute_value::kind::ns:
      return a.set == b.set;
    case attribute_value::kind::m:
      return (a.map ? *a.map : attribute_map{}) == (b.map ? *b.map : attribute_map{});
    case attribute_value::kind::l:
      return (a.list ? *a.list : attribute_list{}) == (b.list ? *b.list : attribute_list{});
  }
  return false;
}

boost::json::value to_json(const attribute_value& v) {
  boost::json::object o;
  switch (v.type) {
    case attribute_value::kind::s:
      o["S"] = v.text;
      break;
    case attribute_value::kind::n:
      o["N"] = v.text;
      break;
    case attribute_value::kind::boolean:
      o["BOOL"] = v.flag;
      break;
    case attribute_value::kind::null:
      o["NULL"] = true;
      break;
    case attribute_value::kind::ss:
    case attribute_value::kind::ns: {
      boost::json::array a;
      for (const auto& s : v.set)
        a.emplace_back(s);
      o[v.type == attribute_value::kind::ss ? "SS" : "NS"] = std::move(a);
      break;
    }
    case attribute_value::kind::m:
      o["M"] = v.map ? to_json(*v.map) : boost::json::object();
      break;
    case attribute_value::kind::l: {
      boost::json::array a;
      if (v.list) {
        for (const auto& e : *v.list)
          a.push_back(to_json(e));
      }
      o["L"] = std::move(a);
      break;
    }
  }
  return o;
}

boost::json::object to_json(const attribute_map& m) {
  boost::json::object o;
  for (const auto& [name, value] : m)
    o[name] = to_json(value);
  return o;
}

namespace {
std::optional<std::vector<std::string>> string_array(const boost::json::value& v) {
  const auto* a = v.if_array();
  if (!a)
    return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : *a) {
    const auto* s = e.if_string();
    if (!s)
      return std::nullopt;
    out.emplace_back(*s);
  }
  return out;
}
}  // namespace

std::optional<attribute_value> attribute_from_json(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (!o || o->size() != 1)
    return std::nullopt;
  const auto& [tag, inner] = *o->begin();
  if (tag == "S" || tag == "N") {
    const auto* s = inner.if_string();
    if (!s)
      return std::nullopt;
    return tag == "S" ? attribute_value::string(std::string(*s))
                      : attribute_value::number_text(std::string(*s));
  }
  if (tag == "BOOL") {
    const auto* b = inner.if_bool();
    return b ? std::optional(attribute_value::boolean(*b)) : std::nullopt;
  }
  if (tag == "NULL")
    return attribute_value::null_value();
  if (tag == "SS" || tag == "NS") {
    auto values = string_array(inner);
    if (!values)
      return std::nullopt;
    return tag == "SS" ? attribute_value::string_set(std::move(*values))
                       : attribute_value::number_set(std::move(*values));
  }
  if (tag == "M") {
    auto m = attribute_map_from_json(inner);
    return m ? std::optional(attribute_value::of_map(std::move(*m))) : std::nullopt;
  }
  if (tag == "L") {
    const auto* a = inner.if_array();
    if (!a)
      return std::nullopt;
    attribute_list l;
    for (const auto& e : *a) {
      auto item = attribute_from_json(e);
      if (!item)
        return std::nullopt;
      l.push_back(std::move(*item));
    }
    return attribute_value::of_list(std::move(l));
  }
  return std::nullopt;
}

std::optional<attribute_map> attribute_map_from_json(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (!o)
    return std::nullopt;
  attribute_map m;
  for (const auto& [name, value] : *o) {
    auto a = attribute_from_json(value);
    if (!a)
      return std::nullopt;
    m.emplace(std::string(name), std::move(*a));
  }
  return m;
}

}  // namespace crud::aws
