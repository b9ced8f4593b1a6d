#include "support/runtime_stand_in.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

namespace crud::lambda_it {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using http_response = http::response<http::string_body>;

namespace {

constexpr std::string_view prefix = "/2018-06-01/runtime";
constexpr std::string_view invocation_prefix = "/2018-06-01/runtime/invocation/";

}  // namespace

struct runtime_stand_in::impl {
  class session;

  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  when_empty policy;
  std::uint16_t port = 0;

  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::deque<queued_event> queue;
  bool finished = false;
  bool holding = false;  // a `next` is waiting for an event
  std::string outstanding;
  std::size_t served = 0;
  std::size_t answered = 0;
  std::size_t nexts = 0;
  std::size_t connections = 0;
  std::vector<runtime_post> posts;
  std::vector<std::string> unexpected;
  // Only touched on the io thread.
  std::shared_ptr<session> held;

  explicit impl(when_empty p) : policy(p) {}

  void accept();
  void handle(const std::shared_ptr<session>& s, const http::request<http::string_body>& req);
  // The answer to a `next` now, or nullopt to hold it. Called with the mutex held.
  std::optional<http_response> next_answer_locked(unsigned version);
  void release_held();
};

// One connection from the runtime: requests are read and answered in turn (keep-alive); an
// answer to `next` may come later, when the stand-in holds it.
class runtime_stand_in::impl::session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, runtime_stand_in::impl& owner)
      : stream_(std::move(socket)), owner_(owner) {}

  void read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) {
                         self->close();
                         return;
                       }
                       self->owner_.handle(self, self->req_);
                     });
  }

  void reply(http_response res) {
    res_ = std::move(res);
    res_.prepare_payload();
    http::async_write(stream_, res_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec || !self->res_.keep_alive()) {
                          self->close();
                          return;
                        }
                        self->read();
                      });
  }

 private:
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http_response res_;
  runtime_stand_in::impl& owner_;
};

namespace {

http_response make_response(http::status status, unsigned version, bool keep_alive,
                            std::string body) {
  http_response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  return res;
}

std::int64_t deadline_ms() {
  auto now = std::chrono::system_clock::now() + std::chrono::seconds(30);
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

}  // namespace

void runtime_stand_in::impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec)
      return;  // the acceptor is closed: the stand-in is going away
    {
      std::lock_guard lock(mutex);
      ++connections;
    }
    std::make_shared<session>(std::move(socket), *this)->read();
    accept();
  });
}

std::optional<http_response> runtime_stand_in::impl::next_answer_locked(unsigned version) {
  if (!queue.empty()) {
    queued_event ev = std::move(queue.front());
    queue.pop_front();
    http_response res = make_response(http::status::ok, version, true, std::move(ev.payload));
    res.set("Lambda-Runtime-Aws-Request-Id", ev.request_id);
    res.set("Lambda-Runtime-Deadline-Ms", std::to_string(deadline_ms()));
    res.set("Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:crud-api-it");
    if (!ev.trace_id.empty())
      res.set("Lambda-Runtime-Trace-Id", ev.trace_id);
    outstanding = ev.request_id;
    ++served;
    holding = false;
    changed.notify_all();
    return res;
  }
  if (finished || policy == when_empty::container_error) {
    holding = false;
    changed.notify_all();
    return make_response(http::status::internal_server_error, version, false,
                         R"({"errorMessage":"no more events","errorType":"Stand-in.Done"})");
  }
  holding = true;
  changed.notify_all();
  return std::nullopt;
}

void runtime_stand_in::impl::release_held() {
  if (!held)
    return;
  std::optional<http_response> res;
  {
    std::lock_guard lock(mutex);
    res = next_answer_locked(11);
  }
  if (res) {
    auto s = std::move(held);
    held.reset();
    s->reply(std::move(*res));
  }
}

void runtime_stand_in::impl::handle(const std::shared_ptr<session>& s,
                                    const http::request<http::string_body>& req) {
  const std::string target(req.target());
  const unsigned version = req.version();
  auto accepted = [&] {
    s->reply(
        make_response(http::status::accepted, version, req.keep_alive(), R"({"status":"OK"})"));
  };

  if (req.method() == http::verb::get && target == std::string(prefix) + "/invocation/next") {
    std::optional<http_response> res;
    {
      std::lock_guard lock(mutex);
      ++nexts;
      res = next_answer_locked(version);
    }
    if (res) {
      s->reply(std::move(*res));
    } else {
      held = s;
    }
    return;
  }

  if (req.method() == http::verb::post) {
    runtime_post post;
    post.error_type = std::string(req["Lambda-Runtime-Function-Error-Type"]);
    post.content_type = std::string(req[http::field::content_type]);
    post.body = req.body();
    std::string_view t = target;
    bool known = false;
    if (t == std::string(prefix) + "/init/error") {
      post.kind = post_kind::init_error;
      known = true;
    } else if (t.starts_with(invocation_prefix)) {
      std::string_view rest = t.substr(invocation_prefix.size());
      auto slash = rest.find('/');
      if (slash != std::string_view::npos && slash > 0) {
        std::string_view what = rest.substr(slash + 1);
        post.request_id = std::string(rest.substr(0, slash));
        if (what == "response" || what == "error") {
          post.kind = what == "response" ? post_kind::response : post_kind::error;
          known = true;
        }
      }
    }
    if (known) {
      {
        std::lock_guard lock(mutex);
        if (post.kind != post_kind::init_error) {
          post.outstanding = std::exchange(outstanding, std::string());
          ++answered;
        }
        posts.push_back(std::move(post));
        changed.notify_all();
      }
      accepted();
      return;
    }
  }

  {
    std::lock_guard lock(mutex);
    unexpected.push_back(std::string(req.method_string()) + " " + target);
  }
  s->reply(make_response(http::status::not_found, version, req.keep_alive(),
                         R"({"errorMessage":"unknown route","errorType":"Stand-in.NotFound"})"));
}

runtime_stand_in::runtime_stand_in(when_empty policy) : impl_(std::make_unique<impl>(policy)) {
  tcp::endpoint loopback(asio::ip::make_address_v4("127.0.0.1"), 0);
  impl_->acceptor.open(loopback.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(loopback);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([io = &impl_->io] { io->run(); });
}

runtime_stand_in::~runtime_stand_in() {
  impl_->io.stop();
  if (impl_->thread.joinable())
    impl_->thread.join();
  impl_->held.reset();
}

std::string runtime_stand_in::endpoint() const {
  return "127.0.0.1:" + std::to_string(impl_->port);
}

void runtime_stand_in::enqueue(std::vector<queued_event> events) {
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& ev : events)
      impl_->queue.push_back(std::move(ev));
  }
  asio::post(impl_->io, [i = impl_.get()] { i->release_held(); });
}

void runtime_stand_in::finish() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->finished = true;
  }
  asio::post(impl_->io, [i = impl_.get()] { i->release_held(); });
}

bool runtime_stand_in::wait_idle(std::size_t served, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] {
    return impl_->served == served && impl_->answered == served && impl_->holding;
  });
}

std::vector<runtime_post> runtime_stand_in::posts() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->posts;
}

std::size_t runtime_stand_in::served() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->served;
}

std::size_t runtime_stand_in::next_requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->nexts;
}

std::size_t runtime_stand_in::connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections;
}

std::vector<std::string> runtime_stand_in::unexpected() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->unexpected;
}

}  // namespace crud::lambda_it
