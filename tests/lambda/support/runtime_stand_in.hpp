#pragma once
// A stand-in for the AWS Lambda Runtime API (2018-06-01), served on 127.0.0.1 from its own
// thread, for running the real binary as `crud-api lambda` in a test. It hands out queued events
// on `GET /runtime/invocation/next` with the headers Lambda sends, and records every
// `/invocation/{id}/response`, `/invocation/{id}/error` and `/init/error` post, together with
// the invocation that was outstanding when it arrived, so a test can check that each answer
// went to the right request id.
//
// With nothing queued, `next` either gets 500 at once (Lambda's "container error": the
// runtime must exit, so a test ends by itself), or is held until more events are queued or
// `finish()` is called, which lets a test look at the process while it waits.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace crud::lambda_it {

struct queued_event {
  std::string request_id;  // Lambda-Runtime-Aws-Request-Id
  std::string trace_id;    // Lambda-Runtime-Trace-Id
  std::string payload;     // the event JSON (or anything else)
};

enum class post_kind { response, error, init_error };

struct runtime_post {
  post_kind kind = post_kind::response;
  std::string request_id;   // from the path; empty for /init/error
  std::string outstanding;  // the id handed out by the last `next` and not yet answered
  std::string error_type;   // Lambda-Runtime-Function-Error-Type
  std::string content_type;
  std::string body;
};

class runtime_stand_in {
 public:
  enum class when_empty { container_error, hold };

  explicit runtime_stand_in(when_empty policy = when_empty::container_error);
  ~runtime_stand_in();
  runtime_stand_in(const runtime_stand_in&) = delete;
  runtime_stand_in& operator=(const runtime_stand_in&) = delete;

  // host:port, as AWS_LAMBDA_RUNTIME_API gives it.
  std::string endpoint() const;

  // Queues events; a held `next` gets the first of them.
  void enqueue(std::vector<queued_event> events);
  // From now on a `next` with nothing queued, including a held one, gets 500.
  void finish();

  // Waits until `served` events have been handed out, each has been answered, and the runtime
  // is waiting in `next` for more (hold policy). False on timeout.
  bool wait_idle(std::size_t served, std::chrono::milliseconds timeout) const;

  std::vector<runtime_post> posts() const;
  std::size_t served() const;         // events handed out
  std::size_t next_requests() const;  // `next` requests received, including refused ones
  std::size_t connections() const;    // TCP connections accepted
  // Requests the Runtime API would not know (method and target), for the test to assert empty.
  std::vector<std::string> unexpected() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace crud::lambda_it
