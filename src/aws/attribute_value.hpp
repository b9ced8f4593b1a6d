#pragma once
// DynamoDB attribute values and their JSON 1.0 wire form ({"S":"x"}, {"N":"12"}, ...). Numbers
// stay text, as DynamoDB sends them, so no precision is lost on the way through; the store
// converts the few it uses. Only the types this project needs are supported: S, N, BOOL, NULL,
// M, L, SS and NS (no binary types).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/fwd.hpp>

namespace crud::aws {

struct attribute_value;
using attribute_map = std::map<std::string, attribute_value, std::less<>>;
using attribute_list = std::vector<attribute_value>;

struct attribute_value {
  enum class kind { s, n, boolean, null, m, l, ss, ns };

  kind type = kind::null;
  std::string text;                      // S, or N as decimal text
  bool flag = false;                     // BOOL
  std::vector<std::string> set;          // SS, or NS as decimal texts
  std::shared_ptr<attribute_map> map;    // M
  std::shared_ptr<attribute_list> list;  // L

  static attribute_value string(std::string s);
  static attribute_value number(std::int64_t n);
  static attribute_value number_text(std::string decimal);
  static attribute_value boolean(bool b);
  static attribute_value null_value();
  static attribute_value string_set(std::vector<std::string> values);
  static attribute_value number_set(std::vector<std::string> decimals);
  static attribute_value of_map(attribute_map m);
  static attribute_value of_list(attribute_list l);

  // The integer in an N that holds one; nullopt otherwise (another type, a fraction, overflow).
  std::optional<std::int64_t> as_int64() const;
  // The text of an S; nullptr otherwise.
  const std::string* as_string() const { return type == kind::s ? &text : nullptr; }

  friend bool operator==(const attribute_value& a, const attribute_value& b);
};

// The wire form of one value, and of a map of them (an item, a key, expression values).
boost::json::value to_json(const attribute_value& v);
boost::json::object to_json(const attribute_map& m);

// The value in its wire form; nullopt when it is not one of the supported shapes.
std::optional<attribute_value> attribute_from_json(const boost::json::value& v);
std::optional<attribute_map> attribute_map_from_json(const boost::json::value& v);

}  // namespace crud::aws
