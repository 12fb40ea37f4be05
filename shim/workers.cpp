#include "workers.hpp"

#include <pthread.h>

#include <exception>

#include "log.hpp"

namespace sk::shim {

Workers::Workers(unsigned threads, const char* name) {
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { loop(); });
    pthread_setname_np(threads_.back().native_handle(), name);
  }
}

Workers::~Workers() { stop(); }

bool Workers::post(Task task) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return false;
  queue_.push_back(std::move(task));
  cv_.notify_one();
  return true;
}

size_t Workers::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void Workers::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void Workers::loop() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to answer
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      // Tasks answer their own failures; one escaping here would end the process.
      log_event("error", "worker task failed", {{"error", e.what()}});
    }
  }
}

}  // namespace sk::shim
