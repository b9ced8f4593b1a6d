#include "server/http_server.hpp"

#include <algorithm>
#include <csignal>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include "server/http_session.hpp"
#include "server/listener.hpp"
#include "server/server_state.hpp"

namespace crud::server {
namespace asio = boost::asio;

namespace {

unsigned resolve_io_threads(unsigned configured) {
  if (configured != 0)
    return configured;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Often enough that idle buckets do not pile up between bursts of new clients.
constexpr std::chrono::seconds limiter_sweep_period{30};

}  // namespace

// Threads: each of the `io_threads` threads runs an io_context of its own, and a connection
// stays on the one the listener gave it, so its handlers run in order without a strand and
// without waking another thread (the pattern of one event loop per core). The server's own
// work (accepting, signals, timers, shutdown) runs on the `control_` strand of `ioc_`, which
// the thread calling run() runs. Blocking handler calls and periodic tasks run on `pool_`.
//
// Member order is destruction order in reverse, and it matters: pool_ goes first (its queued
// work may hold sessions), then the Asio objects, then the workers' io_contexts (destroying
// any handler left, which may hold sessions too), and state_, which sessions use until they
// die, last.
class http_server::impl {
 public:
  impl(server_config config, app::request_handler& app, const core::clock& clock)
      : io_threads_(resolve_io_threads(config.io_threads)),
        ioc_(1),
        control_(asio::make_strand(ioc_)),
        grace_timer_(control_),
        pool_(std::max(1u, config.handler_threads)) {
    state_ = std::make_unique<server_state>(std::move(config), app, clock, pool_.get_executor());
    workers_.reserve(io_threads_);
    for (unsigned i = 0; i < io_threads_; ++i)
      workers_.push_back(std::make_unique<asio::io_context>(1));
    state_->set_on_drained([this] { asio::post(control_, [this] { check_done(); }); });
    if (state_->limiter().enabled()) {
      every(limiter_sweep_period, [this] { state_->limiter().evict_idle(); });
    }
  }

  ~impl() {
    // run() has returned, or never ran: either way no thread is in the pool's handlers but
    // its own, and join() waits for those.
    pool_.join();
  }

  boost::system::result<std::uint16_t, std::string> listen() {
    if (listener_)
      return std::string("cannot listen: the server is already listening");
    std::vector<asio::io_context*> workers;
    for (const auto& w : workers_)
      workers.push_back(w.get());
    auto l = std::make_shared<listener>(control_, std::move(workers), *state_);
    auto port = l->open(state_->config().host, state_->config().port);
    if (!port)
      return port;
    listener_ = std::move(l);
    listener_->start();
    // Registered before the caller can announce the port, so a SIGTERM that follows the
    // announcement at once still means a graceful stop rather than the default death.
    if (state_->config().handle_signals && !signals_) {
      signals_.emplace(control_, SIGINT, SIGTERM);
      wait_for_signal();
    }
    return port;
  }

  void run() {
    work_.emplace(ioc_.get_executor());
    for (const auto& w : workers_)
      worker_work_.push_back(asio::make_work_guard(*w));
    std::vector<std::thread> threads;
    threads.reserve(workers_.size());
    for (const auto& w : workers_)
      threads.emplace_back([&ioc = *w] { run_io(ioc); });
    run_io(ioc_);
    for (auto& t : threads)
      t.join();
    // Every connection is gone; let the pool finish what it has (periodic tasks).
    pool_.join();
  }

  void stop() {
    asio::post(control_, [this] { begin_shutdown(); });
  }

  void every(std::chrono::milliseconds period, std::function<void()> task) {
    auto p = std::make_unique<periodic>(std::max(period, std::chrono::milliseconds(1)),
                                        std::move(task), asio::steady_timer(control_));
    asio::post(control_, [this, p = std::move(p)]() mutable {
      if (shutting_down_)
        return;
      periodic& added = *p;
      periodics_.push_back(std::move(p));
      arm(added);
    });
  }

 private:
  struct periodic {
    periodic(std::chrono::milliseconds period, std::function<void()> task, asio::steady_timer timer)
        : period(period), task(std::move(task)), timer(std::move(timer)) {}
    std::chrono::milliseconds period;
    std::function<void()> task;
    asio::steady_timer timer;
  };

  static void run_io(asio::io_context& ioc) {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (...) {
        // Handlers do not throw by design; if one does anyway, keep serving the others.
      }
    }
  }

  // On control_. A first signal stops gracefully; a second one stops at once.
  void wait_for_signal() {
    signals_->async_wait([this](boost::system::error_code ec, int) {
      if (ec)
        return;
      if (shutting_down_) {
        force_close_all();
      } else {
        begin_shutdown();
      }
      if (!done_)
        wait_for_signal();
    });
  }

  // On control_. Runs the task on the pool, then waits a period from its end, so that runs
  // never overlap however long one takes.
  void arm(periodic& p) {
    p.timer.expires_after(p.period);
    p.timer.async_wait([this, &p](boost::system::error_code ec) {
      if (ec || shutting_down_)
        return;
      asio::post(pool_, [this, &p] {
        try {
          p.task();
        } catch (...) {
          // A failing task must not take the pool thread with it; it runs again next period.
        }
        asio::post(control_, [this, &p] {
          if (!shutting_down_)
            arm(p);
        });
      });
    });
  }

  // On control_.
  void begin_shutdown() {
    if (shutting_down_)
      return;
    shutting_down_ = true;
    state_->begin_stopping();
    if (listener_)
      listener_->stop();
    for (auto& p : periodics_)
      p->timer.cancel();
    for (const auto& session : state_->live_sessions())
      session->notify_stopping();
    grace_timer_.expires_after(state_->config().shutdown_grace);
    grace_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec)
        force_close_all();
    });
    check_done();
  }

  // On control_.
  void force_close_all() {
    for (const auto& session : state_->live_sessions())
      session->force_close();
  }

  // On control_. Once stopping and the last connection has closed, let ioc_ run out of work.
  void check_done() {
    if (!shutting_down_ || done_ || state_->open_connections() != 0)
      return;
    done_ = true;
    grace_timer_.cancel();
    if (signals_) {
      boost::system::error_code ignored;
      signals_->cancel(ignored);
    }
    work_.reset();
    // The workers run on until their last handler (a closing socket's, say) has run.
    worker_work_.clear();
  }

  unsigned io_threads_;
  std::unique_ptr<server_state> state_;
  asio::io_context ioc_;
  asio::strand<asio::io_context::executor_type> control_;
  // After control_: a session dying with its worker still reports to control_.
  std::vector<std::unique_ptr<asio::io_context>> workers_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> worker_work_;
  std::optional<asio::signal_set> signals_;
  asio::steady_timer grace_timer_;
  std::shared_ptr<listener> listener_;
  std::vector<std::unique_ptr<periodic>> periodics_;
  asio::thread_pool pool_;
  // Only touched on control_.
  bool shutting_down_ = false;
  bool done_ = false;
};

http_server::http_server(server_config config, app::request_handler& app, const core::clock& clock)
    : impl_(std::make_unique<impl>(std::move(config), app, clock)) {}

http_server::~http_server() = default;

boost::system::result<std::uint16_t, std::string> http_server::listen() {
  return impl_->listen();
}

void http_server::run() {
  impl_->run();
}

void http_server::stop() {
  impl_->stop();
}

void http_server::every(std::chrono::milliseconds period, std::function<void()> task) {
  impl_->every(period, std::move(task));
}

}  // namespace crud::server
