// Sends a batch of signed webhook requests concurrently with the libcurl multi
// interface. No PostgreSQL here: the worker claims and records, this only talks HTTP.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "webhooks/ssrf.hpp"

namespace sk::webhooks {

struct Outgoing {
  std::string url;
  std::string msg_id;                 // webhook-id: the event id, stable across retries
  std::string body;                   // the event object
  std::vector<std::string> secrets;   // current secret first, then one in its grace period
  bool enforce_public = false;        // live mode: refuse private addresses at connect time
};

struct Outcome {
  int status_code = 0;                // 0 when no HTTP response arrived
  std::string error;                  // empty on an HTTP response
  long latency_ms = 0;
  std::string excerpt;                // first 1 KiB of the response body
  long long attempted_at_ms = 0;      // Unix ms
};

class Sender {
 public:
  Sender();
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Returns one outcome per request, in order. `stop` is polled while waiting; when it
  // returns true the unfinished requests come back with error "shutdown".
  std::vector<Outcome> send(const std::vector<Outgoing>& batch, int timeout_ms, const std::vector<Cidr>& allow_list,
                            const std::function<bool()>& stop);

 private:
  void* multi_;
};

}  // namespace sk::webhooks
