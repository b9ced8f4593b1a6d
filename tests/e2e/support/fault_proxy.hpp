#pragma once
// An HTTP proxy on a free loopback port between `crud-api serve` and the DynamoDB engine, which
// the fault tests steer. It counts the operation (the X-Amz-Target after the dot) of every
// request that reaches it, and can answer in the engine's place: a throttling error or a 500 as
// DynamoDB sends them, a connection dropped before or after the engine saw the request, or a
// response that never comes. Each client connection gets its own thread and its own upstream
// connection; the destructor wakes and joins them all.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace crud::e2e {

class fault_proxy {
 public:
  enum class fault : std::uint8_t {
    none,
    throttle,      // 400 ProvisionedThroughputExceededException, dynalite never sees it
    server_error,  // 500 InternalServerError, dynalite never sees it
    drop,          // the connection closes before dynalite sees the request
    lose_answer,   // dynalite handles the request, then the connection closes unanswered
    stall,         // no answer at all until the proxy is destroyed
  };

  explicit fault_proxy(std::uint16_t upstream_port);
  ~fault_proxy();
  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  std::uint16_t port() const;
  std::string endpoint() const;

  // The next `count` requests for `operation` (any operation when empty) meet `f`; with a
  // negative count, every one does until clear().
  void inject(fault f, int count = -1, const std::string& operation = {});
  void clear();

  // How many requests of each operation reached the proxy, faulted or not.
  std::map<std::string, int> operations() const;
  int count(const std::string& operation) const;
  // How many requests met an injected fault.
  int faults_delivered() const;
  void reset_counts();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace crud::e2e
