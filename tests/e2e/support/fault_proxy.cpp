#include "support/fault_proxy.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace crud::e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct fault_proxy::impl {
  explicit impl(std::uint16_t upstream) : upstream_port(upstream), acceptor(io) {
    const tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(local.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(local);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    accept_thread = std::thread([this] { accept_loop(); });
  }

  ~impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
      // Shutting the sockets down wakes every thread blocked in accept() or read().
      ::shutdown(acceptor.native_handle(), SHUT_RDWR);
      for (int fd : open_fds) {
        ::shutdown(fd, SHUT_RDWR);
      }
    }
    woken.notify_all();
    accept_thread.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex);
      threads.swap(connection_threads);
    }
    for (auto& t : threads) {
      t.join();
    }
  }

  void accept_loop() {
    for (;;) {
      tcp::socket socket(io);
      boost::system::error_code ec;
      acceptor.accept(socket, ec);
      std::lock_guard lock(mutex);
      if (stopping) {
        return;
      }
      if (ec) {
        continue;
      }
      open_fds.insert(socket.native_handle());
      connection_threads.emplace_back(
          [this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }

  // The fault for one request of `operation`, counting it.
  fault take_fault(const std::string& operation) {
    std::lock_guard lock(mutex);
    ++counts[operation];
    if (injected == fault::none || remaining == 0 ||
        (!only_operation.empty() && only_operation != operation)) {
      return fault::none;
    }
    if (remaining > 0) {
      --remaining;
    }
    ++delivered;
    return injected;
  }

  static http::response<http::string_body> error_response(http::status status,
                                                          const std::string& type) {
    http::response<http::string_body> res{status, 11};
    res.set(http::field::content_type, "application/x-amz-json-1.0");
    res.set("x-amzn-RequestId", "fault-proxy");
    res.body() = R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + type +
                 R"(","message":"injected by the test's fault proxy"})";
    res.prepare_payload();
    return res;
  }

  void serve(tcp::socket socket) {
    const int fd = socket.native_handle();
    tcp::socket upstream(io);
    beast::flat_buffer buffer;
    beast::flat_buffer upstream_buffer;
    boost::system::error_code ec;
    // The upstream socket is in open_fds too, so that teardown wakes a thread waiting for the
    // engine's answer; it leaves the set before its descriptor can be reused.
    auto close_upstream = [&] {
      if (upstream.is_open()) {
        std::lock_guard lock(mutex);
        open_fds.erase(upstream.native_handle());
      }
      upstream.close(ec);
      upstream_buffer.clear();
    };
    for (;;) {
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) {
        break;
      }
      std::string operation(req["X-Amz-Target"]);
      if (const auto dot = operation.find('.'); dot != std::string::npos) {
        operation.erase(0, dot + 1);
      }
      const fault f = take_fault(operation);
      if (f == fault::drop) {
        break;
      }
      if (f == fault::stall) {
        std::unique_lock lock(mutex);
        woken.wait(lock, [this] { return stopping; });
        break;
      }
      http::response<http::string_body> res;
      if (f == fault::throttle) {
        res = error_response(http::status::bad_request, "ProvisionedThroughputExceededException");
      } else if (f == fault::server_error) {
        res = error_response(http::status::internal_server_error, "InternalServerError");
      } else {
        if (!upstream.is_open()) {
          upstream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), upstream_port), ec);
          if (ec) {
            upstream.close(ec);
            break;  // the engine is down: the client sees the connection close
          }
          std::lock_guard lock(mutex);
          if (stopping) {
            upstream.close(ec);
            break;
          }
          open_fds.insert(upstream.native_handle());
        }
        http::write(upstream, req, ec);
        if (!ec) {
          http::read(upstream, upstream_buffer, res, ec);
        }
        if (ec) {
          close_upstream();
          break;
        }
        // An engine that closes after every answer (moto) must not be sent the next request on
        // the same connection: it would fail as a dropped connection the test never injected.
        if (!res.keep_alive()) {
          close_upstream();
        }
        if (f == fault::lose_answer) {
          break;
        }
      }
      res.keep_alive(req.keep_alive());
      http::write(socket, res, ec);
      if (ec || !req.keep_alive()) {
        break;
      }
    }
    close_upstream();
    std::lock_guard lock(mutex);
    open_fds.erase(fd);
    socket.close(ec);
  }

  std::uint16_t upstream_port;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::thread accept_thread;

  mutable std::mutex mutex;
  std::condition_variable woken;
  bool stopping = false;
  std::set<int> open_fds;
  std::vector<std::thread> connection_threads;
  fault injected = fault::none;
  int remaining = 0;
  std::string only_operation;
  std::map<std::string, int> counts;
  int delivered = 0;
};

fault_proxy::fault_proxy(std::uint16_t upstream_port)
    : impl_(std::make_unique<impl>(upstream_port)) {}

fault_proxy::~fault_proxy() = default;

std::uint16_t fault_proxy::port() const {
  return impl_->port;
}

std::string fault_proxy::endpoint() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void fault_proxy::inject(fault f, int count, const std::string& operation) {
  std::lock_guard lock(impl_->mutex);
  impl_->injected = f;
  impl_->remaining = count;
  impl_->only_operation = operation;
}

void fault_proxy::clear() {
  inject(fault::none, 0);
}

std::map<std::string, int> fault_proxy::operations() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counts;
}

int fault_proxy::count(const std::string& operation) const {
  std::lock_guard lock(impl_->mutex);
  const auto it = impl_->counts.find(operation);
  return it == impl_->counts.end() ? 0 : it->second;
}

int fault_proxy::faults_delivered() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->delivered;
}

void fault_proxy::reset_counts() {
  std::lock_guard lock(impl_->mutex);
  impl_->counts.clear();
  impl_->delivered = 0;
}

}  // namespace crud::e2e
