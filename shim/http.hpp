// The libmicrohttpd front end: request bookkeeping, body accumulation under the 1 MiB
// limit, rate limiting, dispatch to the route table, response headers, access logs
// and metrics. Route handlers never see MHD types.
//
// One thread (sk-http) runs MHD's event loop together with the lanes' sockets. A request
// waiting for its answer is a suspended connection, not a sleeping thread: the handler
// hands the request on (a lane, Workers) and the answer resumes it. A call on a lane is
// answered in the same pass that reads its result, without a thread switch.
#pragma once
#include <poll.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "routes.hpp"

struct MHD_Daemon;

namespace sk::shim {

class HttpServer {
 public:
  HttpServer(Services& services, std::vector<Route> routes);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();  // throws std::runtime_error when the socket cannot be bound; starts sk-http
  // Stops accepting connections; requests already accepted are still answered.
  void quiesce();
  // Waits until no request is being answered; false if `timeout` passed first.
  bool wait_idle(std::chrono::milliseconds timeout) const;
  // Joins sk-http and closes every connection. Every request must have been answered:
  // MHD may not stop with a connection still suspended.
  void stop();
  size_t in_flight() const { return in_flight_.load(); }
  bool draining() const { return draining_.load(); }

  // Entry points for the C callbacks in http.cpp; not for general use.
  struct Impl;

 private:
  friend struct Impl;
  void loop();
  void loop_once(std::vector<pollfd>& fds, int mhd_fd);
  void wake();  // interrupts sk-http's poll; from any thread
  std::thread loop_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_loop_{false};
  std::atomic<bool> quiesce_requested_{false};  // MHD_quiesce_daemon must run on sk-http
  std::atomic<bool> quiesced_{false};
  Services& services_;
  std::vector<Route> routes_;
  MHD_Daemon* daemon_ = nullptr;
  int listen_fd_ = -1;
  std::atomic<size_t> in_flight_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace sk::shim
