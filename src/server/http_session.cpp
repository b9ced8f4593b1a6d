#include "server/http_session.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/none.hpp>

#include "server/http_date.hpp"
#include "server/request_target.hpp"
#include "server/server_state.hpp"

namespace crud::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// How much one read asks of the socket.
constexpr std::size_t read_chunk = std::size_t{16} * 1024;
// After the last response, how long and how much to keep reading (and discarding) what the
// client still sends, so that closing does not reset the connection before it has read the
// response (a close with unread data sends RST, which can destroy the response in flight).
constexpr auto linger_timeout = std::chrono::seconds(2);
constexpr std::size_t max_linger_bytes = std::size_t{1024} * 1024;

constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_read_method(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

// The last transfer coding of the message (RFC 9112 §6.1: the codings are listed across all
// Transfer-Encoding fields, in order), lower-cased; empty when there is none.
std::string last_transfer_coding(const http::fields& fields) {
  std::string last;
  const auto [first, end] = fields.equal_range(http::field::transfer_encoding);
  for (auto it = first; it != end; ++it) {
    const std::string_view value = it->value();
    std::size_t start = 0;
    while (start <= value.size()) {
      const std::size_t comma = std::min(value.find(',', start), value.size());
      std::string_view coding = value.substr(start, comma - start);
      coding = coding.substr(0, coding.find(';'));  // parameters do not name the coding
      while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t'))
        coding.remove_prefix(1);
      while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t'))
        coding.remove_suffix(1);
      if (!coding.empty()) {
        last.assign(coding);
        for (char& c : last)
          c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      }
      start = comma + 1;
    }
  }
  return last;
}

// RFC 9112 framing the parser lets through but a server must refuse (400, then close), since
// each can make this server and a proxy in front of it disagree on where a request ends:
// - HTTP/1.1 without exactly one Host (§3.2);
// - a Transfer-Encoding whose last coding is not chunked (§6.3): Beast 1.81 would take the
//   body as absent and read its bytes as the next request (request smuggling);
// - Transfer-Encoding on HTTP/1.0, which has none (§6.1).
std::optional<std::string_view> framing_problem(unsigned version, const http::fields& fields) {
  if (version >= 11 && fields.count(http::field::host) != 1)
    return "An HTTP/1.1 request needs exactly one Host header";
  if (fields.find(http::field::transfer_encoding) == fields.end())
    return std::nullopt;
  if (version < 11)
    return "Transfer-Encoding is not allowed in HTTP/1.0";
  if (last_transfer_coding(fields) != "chunked")
    return "A Transfer-Encoding must end in chunked";
  return std::nullopt;
}

bool is_http_error(const beast::error_code& ec) noexcept {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

}  // namespace

http_session::http_session(session_socket&& socket, server_state& state, std::string client)
    : stream_(std::move(socket)),
      idle_timer_(stream_.get_executor()),
      // Room for a whole header plus one read: a header that does not fit fails with
      // header_limit (431) before the buffer overflows.
      buffer_(state.config().header_limit + read_chunk),
      state_(state),
      client_key_(std::move(client)) {}

http_session::~http_session() {
  end_request();
  state_.remove_session(this);
  state_.close_connection(client_key_);
}

void http_session::start() {
  asio::dispatch(stream_.get_executor(),
                 beast::bind_front_handler(&http_session::on_start, shared_from_this()));
}

void http_session::notify_stopping() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ == phase::idle) {
      self->close_now();
    } else if (self->phase_ != phase::closing) {
      self->close_after_ = true;
    }
  });
}

void http_session::force_close() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->close_now(); });
}

void http_session::on_start() {
  beast::error_code ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);
  // Synchronous writes then fail with would_block rather than wait (do_write tries one first).
  stream_.socket().non_blocking(true, ec);
  // Registered before the stopping check, so shutdown either sees this session or the session
  // sees shutdown.
  state_.add_session(shared_from_this());
  if (state_.stopping())
    return close_now();
  do_read();
}

// Waits for the first byte of the next request, under the keep-alive idle timeout.
void http_session::do_read() {
  phase_ = phase::idle;
  if (buffer_.size() > 0)
    return do_read_header();  // a pipelined request is already here
  watch_idle(state_.idle_timeout());
  // On the socket itself: the stream's own timeout would arm and cancel a timer per request.
  stream_.socket().async_read_some(
      buffer_.prepare(std::min(read_chunk, buffer_.max_size())),
      beast::bind_front_handler(&http_session::on_idle_read, shared_from_this()));
}

// The keep-alive timeout, kept lazily: each wait between requests only moves idle_deadline_
// forward, and the timer, once armed, runs to its expiry and then looks at the deadline. So a
// busy connection sets the timer about once per timeout rather than once per request. A
// deadline earlier than the timer's (a crowded server's shorter timeout) re-arms it.
// The deadline is on the timer's own clock, which Asio reads for every timer it arms.
void http_session::watch_idle(std::chrono::milliseconds timeout) {
  idle_deadline_ = idle_timer::clock_type::now() + timeout;
  if (idle_timer_armed_ && idle_timer_.expiry() <= idle_deadline_)
    return;
  arm_idle_timer();
}

void http_session::arm_idle_timer() {
  idle_timer_.expires_at(idle_deadline_);  // a pending wait ends with operation_aborted
  idle_timer_armed_ = true;
  idle_timer_.async_wait(
      beast::bind_front_handler(&http_session::on_idle_timer, shared_from_this()));
}

void http_session::on_idle_timer(beast::error_code ec) {
  if (ec)
    return;  // re-armed, or the session closed
  idle_timer_armed_ = false;
  if (phase_ != phase::idle)
    return;  // busy with a request, under that stage's own timeout; the next wait re-arms
  if (idle_timer::clock_type::now() >= idle_deadline_)
    return close_now();  // nothing to answer: the read ends with operation_aborted
  arm_idle_timer();
}

void http_session::on_idle_read(beast::error_code ec, std::size_t bytes) {
  if (phase_ == phase::closing)
    return;
  if (ec)
    return close_now();  // idle timeout, or the client closed: nothing to answer
  buffer_.commit(bytes);
  begin_header();
  // A whole header usually arrives in one read: parse it here, as async_read_header would
  // first do, without that operation's round trip through the event loop and its timer.
  beast::error_code parse_error;
  buffer_.consume(parser_->put(buffer_.data(), parse_error));
  if (parse_error == http::error::need_more && buffer_.size() < buffer_.max_size())
    return read_rest_of_header();
  if (parse_error == http::error::need_more)
    parse_error = http::error::buffer_overflow;  // what async_read_header reports when full
  on_read_header(parse_error, 0);
}

void http_session::do_read_header() {
  begin_header();
  read_rest_of_header();
}

void http_session::begin_header() {
  phase_ = phase::reading;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
      state_.config().header_limit, std::numeric_limits<std::uint32_t>::max())));
  // The body limit is applied once the header is in, so that an oversized Content-Length is
  // answered with the request's own headers (and correlation id) at hand.
  parser_->body_limit(boost::none);
}

void http_session::read_rest_of_header() {
  stream_.expires_after(state_.header_timeout());
  http::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&http_session::on_read_header, shared_from_this()));
}

void http_session::on_read_header(beast::error_code ec, std::size_t) {
  if (phase_ == phase::closing)
    return;
  if (ec)
    return on_read_error(ec);
  begin_request();
  const auto& msg = parser_->get();
  version_ = msg.version();
  head_request_ = msg.method() == http::verb::head;
  keep_alive_ = msg.keep_alive();
  if (auto problem = framing_problem(version_, msg))
    return reject_and_close(core::make_error(core::error_code::bad_request, std::string(*problem)));

  const std::size_t limit = state_.config().body_limit;
  if (const auto length = parser_->content_length(); length && *length > limit) {
    return reject_and_close(core::make_error(
        core::error_code::payload_too_large,
        "The request body exceeds the limit of " + std::to_string(limit) + " bytes"));
  }
  parser_->body_limit(limit);  // still needed for chunked bodies
  if (parser_->is_done())
    return on_request();
  if (version_ >= 11 && beast::iequals(msg[http::field::expect], "100-continue")) {
    return do_continue();
  }
  do_read_body();
}

// The client waits for this before sending its body; it is only sent once the header passed.
void http_session::do_continue() {
  stream_.expires_after(state_.config().body_timeout);
  asio::async_write(stream_, asio::buffer(continue_response.data(), continue_response.size()),
                    beast::bind_front_handler(&http_session::on_continue, shared_from_this()));
}

void http_session::on_continue(beast::error_code ec, std::size_t) {
  if (phase_ == phase::closing)
    return;
  if (ec)
    return close_now();
  do_read_body();
}

void http_session::do_read_body() {
  stream_.expires_after(state_.config().body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&http_session::on_read_body, shared_from_this()));
}

void http_session::on_read_body(beast::error_code ec, std::size_t) {
  if (phase_ == phase::closing)
    return;
  if (ec)
    return on_read_error(ec);
  on_request();
}

void http_session::on_read_error(beast::error_code ec) {
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    core::api_error error =
        core::make_error(core::error_code::bad_request, "The request header is too large");
    error.status = 431;
    return reject_and_close(error);
  }
  if (ec == http::error::body_limit) {
    return reject_and_close(core::make_error(core::error_code::payload_too_large,
                                             "The request body exceeds the limit of " +
                                                 std::to_string(state_.config().body_limit) +
                                                 " bytes"));
  }
  // A timeout, a reset or the client closing mid-message: there is nobody to answer.
  if (!is_http_error(ec) || ec == http::error::end_of_stream ||
      ec == http::error::partial_message) {
    return close_now();
  }
  reject_and_close(core::make_error(core::error_code::bad_request, "Malformed HTTP request"));
}

// A write request between the stages of its pipeline: admitted and routed on the session's
// thread (app::request_handler::prepare), its handler run where the writes are committed, then
// settled back on the session's thread.
struct http_session::write_work {
  explicit write_work(app::request r) : req(std::move(r)) {}

  app::response settle(server_state& state, const boost::system::error_code& commit) noexcept {
    if (pending)
      return pending->settle(commit);
    return state.reject(req, core::make_error(core::error_code::internal, "Internal server error"));
  }

  app::request req;
  std::unique_ptr<app::pending_response> pending;  // after req, which it refers to
};

// The handler's run as a write job, on the store's writer thread (or the pool). Only that stays
// on the writer, whose serial loop is what bounds durable writes per second: the commit's
// outcome is posted back to the session's own executor, where the response is settled and
// written.
class http_session::write_request final : public store::write_job {
 public:
  write_request(std::shared_ptr<http_session> session, std::unique_ptr<write_work> work)
      : session_(std::move(session)), work_(std::move(work)) {}

  void run() noexcept override { work_->pending->run(); }

  void settled(const boost::system::error_code& commit) noexcept override {
    try {
      auto home = session_->stream_.get_executor();
      asio::post(home, [self = std::move(session_), w = std::move(work_), commit]() mutable {
        self->do_write(w->settle(self->state_, commit));
      });
    } catch (...) {
      // Out of memory: the session ends with the last reference to it, closing the socket.
    }
  }

 private:
  std::shared_ptr<http_session> session_;
  std::unique_ptr<write_work> work_;  // apart from the job, which the writer destroys
};

void http_session::on_request() {
  stream_.expires_never();
  phase_ = phase::handling;
  auto target = parse_request_target(parser_->get().target());
  app::request req =
      to_app_request(parser_->release(), target ? std::move(*target) : request_target{});
  parser_.reset();

  req.client_address = client_key_;
  req.received_ns = start_ns_;  // the header's arrival, as the metrics count it
  // The store gives up at this deadline (503 + Retry-After) rather than retry past it, so a
  // stalled DynamoDB costs a client the timeout, not every attempt's own.
  if (const auto timeout = state_.config().request_timeout; timeout.count() > 0)
    req.deadline_ms = state_.clock().wall_ms() + timeout.count();
  if (!target) {
    return do_write(state_.reject(
        req, core::make_error(core::error_code::bad_request, "Malformed request target")));
  }
  if (state_.config().inline_reads && is_read_method(req.method)) {
    return do_write(state_.handle(req));
  }
  // Writes wait for a commit, so the I/O thread never runs their handlers: the store's writer
  // thread does, when it has one, and otherwise the pool. Admission, credentials and routing
  // run here, so a refused write never reaches the writer.
  auto work = std::make_unique<write_work>(std::move(req));
  work->pending = state_.prepare(work->req);
  if (!work->pending || work->pending->answered())
    return do_write(work->settle(state_, {}));
  std::unique_ptr<store::write_job> job =
      std::make_unique<write_request>(shared_from_this(), std::move(work));
  if (store::item_store* store = state_.config().write_store)
    job = store->post_write_job(std::move(job));
  if (!job)
    return;
  asio::post(state_.blocking(), [job = std::move(job)] {
    job->run();
    job->settled({});  // the store's calls returned once durable
  });
}

void http_session::do_write(app::response res) {
  if (phase_ == phase::closing)
    return end_request();  // force-closed while in the app
  state_.stats().record_request(res.op, res.status, state_.clock().steady_ns() - start_ns_);
  if (!keep_alive_ || state_.stopping())
    close_after_ = true;
  response_framing framing;
  framing.version = version_;
  framing.head_request = head_request_;
  framing.keep_alive = !close_after_;
  framing.date = cached_http_date(state_.clock().wall_ms());
  response_ = serialize_response(std::move(res), framing);
  announced_close_ = close_after_;

  phase_ = phase::writing;
  std::array<asio::const_buffer, 2> buffers{asio::buffer(response_.head),
                                            asio::buffer(response_.body)};
  // A response usually fits the socket's send buffer at once: write it now, and only wait,
  // under the timeout, for what does not fit.
  beast::error_code ec;
  const std::size_t written = stream_.socket().write_some(buffers, ec);
  if (!ec && written == asio::buffer_size(buffers))
    return on_write(ec, written);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again)
    return on_write(ec, written);
  // What the socket took came from the head first, then from the body.
  const std::size_t from_head = std::min(written, buffers[0].size());
  buffers[0] += from_head;
  buffers[1] += written - from_head;
  // A client that stops reading cannot hold the connection forever.
  stream_.expires_after(state_.config().body_timeout);
  asio::async_write(stream_, buffers,
                    beast::bind_front_handler(&http_session::on_write, shared_from_this()));
}

void http_session::on_write(beast::error_code ec, std::size_t) {
  const bool announced_close = announced_close_;
  end_request();
  response_.head.clear();  // its capacity serves the next response
  response_.body = {};
  if (phase_ == phase::closing)
    return;
  if (ec)
    return close_now();
  if (close_after_) {
    // Shutdown began while the response was being written with keep-alive: to the client the
    // connection is now idle, and idle connections are closed at once.
    if (!announced_close)
      return close_now();
    return do_linger();
  }
  do_read();
}

void http_session::do_linger() {
  phase_ = phase::closing;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec)
    return close_now();
  buffer_.clear();
  lingered_bytes_ = 0;
  stream_.expires_after(linger_timeout);  // one deadline for the whole drain
  stream_.async_read_some(buffer_.prepare(std::min(read_chunk, buffer_.max_size())),
                          beast::bind_front_handler(&http_session::on_linger, shared_from_this()));
}

void http_session::on_linger(beast::error_code ec, std::size_t bytes) {
  lingered_bytes_ += bytes;
  if (ec || lingered_bytes_ > max_linger_bytes)
    return close_now();  // EOF is the normal end
  // Not committed: what the client sends now is discarded.
  stream_.async_read_some(buffer_.prepare(std::min(read_chunk, buffer_.max_size())),
                          beast::bind_front_handler(&http_session::on_linger, shared_from_this()));
}

void http_session::close_now() {
  phase_ = phase::closing;
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.close();
  idle_timer_.cancel();  // its wait holds the session
}

void http_session::reject_and_close(const core::api_error& error) {
  app::request req = partial_request();
  if (parser_ && !parser_->get().method_string().empty()) {  // the request line parsed
    version_ = parser_->get().version();
    head_request_ = parser_->get().method() == http::verb::head;
  } else {
    version_ = 11;
    head_request_ = false;
  }
  parser_.reset();
  begin_request();
  close_after_ = true;
  stream_.expires_never();
  phase_ = phase::handling;
  do_write(state_.reject(req, error));
}

// As much of the current request as was read, so that a rejection is logged and correlated
// like any other response.
app::request http_session::partial_request() const {
  app::request req;
  // Beast consumes the request line as soon as it has it, and fields as they parse, so the
  // message holds whatever came before the failure.
  if (parser_ && !parser_->get().method_string().empty()) {
    const auto& msg = parser_->get();
    req.method = std::string(msg.method_string());
    if (auto target = parse_request_target(msg.target())) {
      req.path = std::move(target->path);
      req.query = std::move(target->query);
    }
    for (const auto& field : msg) {
      req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    return req;
  }
  // Not even the request line parsed (it is too long): take what the raw bytes give.
  std::string_view raw(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  raw = raw.substr(0, std::min(raw.find("\r\n"), std::size_t{2048}));
  const auto method_end = raw.find(' ');
  if (method_end > 32)  // npos too: no space at all
    return req;
  const std::string_view method = raw.substr(0, method_end);
  if (!std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return req;
  }
  req.method = std::string(method);
  std::string_view rest = raw.substr(method_end + 1);
  if (auto target = parse_request_target(rest.substr(0, rest.find(' ')))) {
    req.path = std::move(target->path);
  }
  return req;
}

void http_session::begin_request() {
  if (in_flight_)
    return;
  in_flight_ = true;
  start_ns_ = state_.clock().steady_ns();
  state_.stats().request_started();
}

void http_session::end_request() noexcept {
  if (!in_flight_)
    return;
  in_flight_ = false;
  state_.stats().request_finished();
}

}  // namespace crud::server
