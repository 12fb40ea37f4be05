#include "webhooks/sender.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <chrono>
#include <ctime>
#include <memory>

#include "webhooks/signing.hpp"

namespace sk::webhooks {
namespace {

constexpr size_t kExcerptBytes = 1024;

long long now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

struct Transfer {
  const Outgoing* out;
  const std::vector<Cidr>* allow_list;
  Outcome outcome;
  std::chrono::steady_clock::time_point started;
  curl_slist* headers = nullptr;
  CURL* easy = nullptr;
  bool refused = false;
  ~Transfer() {
    if (headers) curl_slist_free_all(headers);
    if (easy) curl_easy_cleanup(easy);
  }
};

size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  size_t room = kExcerptBytes - std::min(kExcerptBytes, t->outcome.excerpt.size());
  t->outcome.excerpt.append(data, std::min(room, n));
  return n;  // read (and drop) the rest so the connection completes normally
}

// Checks the address curl is about to connect to: DNS answers can change between the
// endpoint's creation and a delivery, so the live-mode policy is enforced here too.
curl_socket_t open_socket(void* user, curlsocktype, curl_sockaddr* addr) {
  auto* t = static_cast<Transfer*>(user);
  if (t->out->enforce_public && !allowed(&addr->addr, *t->allow_list)) {
    t->refused = true;
    return CURL_SOCKET_BAD;
  }
  return socket(addr->family, addr->socktype, addr->protocol);
}

}  // namespace

Sender::Sender() : multi_(curl_multi_init()) {}
Sender::~Sender() { curl_multi_cleanup(static_cast<CURLM*>(multi_)); }

std::vector<Outcome> Sender::send(const std::vector<Outgoing>& batch, int timeout_ms,
                                  const std::vector<Cidr>& allow_list, const std::function<bool()>& stop) {
  CURLM* multi = static_cast<CURLM*>(multi_);
  std::vector<std::unique_ptr<Transfer>> transfers;
  transfers.reserve(batch.size());
  const long long timestamp_s = static_cast<long long>(std::time(nullptr));

  for (const auto& out : batch) {
    auto t = std::make_unique<Transfer>();
    t->out = &out;
    t->allow_list = &allow_list;
    t->outcome.attempted_at_ms = now_ms();
    t->started = std::chrono::steady_clock::now();
    t->easy = curl_easy_init();
    std::string signature = signature_header(out.secrets, out.msg_id, timestamp_s, out.body);
    const std::vector<std::string> headers = {"Content-Type: application/json", "User-Agent: SK-Inventory-Webhooks/0.1",
                                              "webhook-id: " + out.msg_id,
                                              "webhook-timestamp: " + std::to_string(timestamp_s),
                                              "webhook-signature: " + signature};
    for (const std::string& h : headers)
      t->headers = curl_slist_append(t->headers, h.c_str());
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, out.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, out.body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(out.body.size()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t.get());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_multi_add_handle(multi, e);
    transfers.push_back(std::move(t));
  }

  int running = static_cast<int>(transfers.size());
  bool stopped = false;
  while (running > 0) {
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      t->outcome.latency_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::steady_clock::now() - t->started)
                                                    .count());
      if (msg->data.result == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        t->outcome.status_code = static_cast<int>(code);
      } else {
        t->outcome.error = t->refused ? "address refused by the SSRF policy" : curl_easy_strerror(msg->data.result);
      }
    }
    if (running == 0) break;
    if (stop && stop()) {
      stopped = true;
      break;
    }
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }

  std::vector<Outcome> outcomes;
  outcomes.reserve(transfers.size());
  for (auto& t : transfers) {
    curl_multi_remove_handle(multi, t->easy);
    if (stopped && t->outcome.status_code == 0 && t->outcome.error.empty()) t->outcome.error = "shutdown";
    outcomes.push_back(std::move(t->outcome));
  }
  return outcomes;
}

}  // namespace sk::webhooks
