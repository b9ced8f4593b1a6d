#pragma once
// The app as a transport sees it: one call per request, which never throws. `api` implements
// it; transport tests substitute their own.
//
// A transport that runs a request where its writes are group-committed (serve on SQLite runs
// them on the store's writer thread) must not answer before the commit is durable, and must
// answer differently if the commit fails. It splits handle() in three: prepare() on its own
// thread (admission, credentials, routing: no store call), run() where the writes are
// committed (the handler and its store calls), and settle() once the commit is known (the
// response's final headers and the log line). Only run() has to be on the writer's serial path.

#include <memory>

#include <boost/system/error_code.hpp>

#include "app/http_types.hpp"
#include "app/transport_hooks.hpp"
#include "core/error.hpp"

namespace crud::app {

// A request admitted and routed, whose handler may still have to run, then settle.
class pending_response {
 public:
  virtual ~pending_response() = default;
  // Whether the request is already answered (refused, or a route that calls no store), so
  // run() has nothing to do and no commit needs waiting for.
  virtual bool answered() const noexcept { return false; }
  // The handler, with its store calls: where the transport commits the writes. Call at most
  // once, before settle().
  virtual void run() noexcept {}
  // The response as prepared when `commit` is empty; otherwise the error the failed commit
  // means for the client, with the request's ids. Logs the request either way. Call once.
  virtual response settle(const boost::system::error_code& commit) noexcept = 0;
};

class request_handler {
 public:
  virtual ~request_handler() = default;

  // Runs the whole pipeline for a request the transport could read.
  virtual response handle(const request& req, const transport_hooks& hooks) noexcept = 0;

  // Answers a request the transport refused before it could be routed (a malformed target, a
  // header or body over its limit), in the same envelope and with the same log line as any
  // other.
  virtual response reject(const request& req, const core::api_error& error) noexcept = 0;

  // handle()'s first stages (see above). `req` and `hooks` must outlive the pending response.
  // Null only when memory ran out; the transport then answers with reject().
  virtual std::unique_ptr<pending_response> prepare(const request& req,
                                                    const transport_hooks& hooks) noexcept;
};

}  // namespace crud::app
