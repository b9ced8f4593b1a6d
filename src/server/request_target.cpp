#include "server/request_target.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "core/hex.hpp"

namespace crud::server {

std::optional<request_target> parse_request_target(std::string_view target) {
  boost::system::result<boost::urls::url_view> parsed;
  if (!target.empty() && target.front() == '/') {
    parsed = boost::urls::parse_origin_form(target);
  } else {
    parsed = boost::urls::parse_absolute_uri(target);
    // Only web URLs are targets; "mailto:x" parses as a URI but names no resource here.
    if (parsed && !parsed->has_authority())
      return std::nullopt;
  }
  if (!parsed)
    return std::nullopt;
  const boost::urls::url_view& url = *parsed;

  request_target out;
  // Decoded by segment: an escaped slash inside a segment must not become a boundary
  // ("/items/<id>%2Frestore" is not the restore route).
  out.path = core::percent_decode_path(url.encoded_path());
  if (out.path.empty())
    out.path.push_back('/');
  if (url.has_query()) {
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;
    for (const auto& param : url.params(opts)) {
      // "?" and "a=1&&b=2" hold empty segments, which name no parameter.
      if (param.key.empty() && !param.has_value)
        continue;
      out.query.emplace_back(param.key, param.has_value ? param.value : std::string());
    }
  }
  return out;
}

}  // namespace crud::server
