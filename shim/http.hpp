// The libmicrohttpd front end: request bookkeeping, body accumulation under the 1 MiB
// limit, rate limiting, dispatch to the route table, response headers, access logs
// and metrics. Route handlers never see MHD types.
#pragma once
#include <atomic>
#include <chrono>
#include <string>
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

  void start();  // throws std::runtime_error when the socket cannot be bound
  // Stops accepting connections; requests already accepted are still answered.
  void quiesce();
  // Waits until no request is being answered; false if `timeout` passed first.
  bool wait_idle(std::chrono::milliseconds timeout) const;
  void stop();  // closes every connection and joins the connection threads
  size_t in_flight() const { return in_flight_.load(); }
  bool draining() const { return draining_.load(); }

  // Entry points for the C callbacks in http.cpp; not for general use.
  struct Impl;

 private:
  friend struct Impl;
  Services& services_;
  std::vector<Route> routes_;
  MHD_Daemon* daemon_ = nullptr;
  int listen_fd_ = -1;
  std::atomic<size_t> in_flight_{0};
  std::atomic<bool> draining_{false};
};

}  // namespace sk::shim
