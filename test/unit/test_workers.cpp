// sk::shim::Workers: every task posted runs exactly once, before stop() returns; once
// stopped, post() refuses (the caller answers instead); a throwing task does not take
// its worker down.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

#include "workers.hpp"

using sk::shim::Workers;

TEST(Workers, RunsEveryTaskOnceOnItsThreads) {
  std::atomic<int> runs{0};
  std::atomic<bool> on_caller{false};
  const auto caller = std::this_thread::get_id();
  {
    Workers w(3);
    EXPECT_EQ(w.size(), 3u);
    for (int i = 0; i < 1000; ++i)
      EXPECT_TRUE(w.post([&] {
        if (std::this_thread::get_id() == caller) on_caller = true;
        ++runs;
      }));
    w.stop();
  }
  EXPECT_EQ(runs.load(), 1000);
  EXPECT_FALSE(on_caller.load());
}

TEST(Workers, StopRunsWhatIsQueuedThenRefuses) {
  Workers w(1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> runs{0};
  std::promise<void> holding;
  w.post([gate, &holding] {  // holds the only worker
    holding.set_value();
    gate.wait();
  });
  holding.get_future().wait();
  for (int i = 0; i < 5; ++i) w.post([&] { ++runs; });
  EXPECT_EQ(w.queued(), 5u);
  std::thread stopper([&] { w.stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  release.set_value();
  stopper.join();
  EXPECT_EQ(runs.load(), 5) << "stop() ran the queued tasks before joining";
  EXPECT_EQ(w.queued(), 0u);
  bool ran = false;
  EXPECT_FALSE(w.post([&] { ran = true; })) << "after stop() post() refuses";
  EXPECT_FALSE(ran);
}

TEST(Workers, ATaskThatThrowsLeavesItsWorkerRunning) {
  Workers w(1);
  std::promise<void> after;
  w.post([] { throw std::runtime_error("task failed"); });
  w.post([&] { after.set_value(); });
  EXPECT_EQ(after.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
}
