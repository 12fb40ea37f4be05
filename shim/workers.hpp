// Threads for the work that blocks: an sk.invoke() on a pooled connection (a read no
// read lane takes, a retry after a lost connection), /readyz and /metrics.
// The HTTP thread never blocks; it hands such work here and the connection waits,
// suspended, for the answer.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sk::shim {

class Workers {
 public:
  using Task = std::function<void()>;

  explicit Workers(unsigned threads, const char* name = "sk-worker");
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Runs `task` on a worker, first come first served. False after stop(): the task
  // was not run, and the caller answers for it.
  bool post(Task task);

  size_t size() const { return threads_.size(); }
  size_t queued() const;  // tasks waiting for a worker
  // Runs every task already queued, then joins the threads.
  void stop();

 private:
  void loop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // joined by stop(), never resized
};

}  // namespace sk::shim
