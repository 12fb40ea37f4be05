// sk-listen: forwards this account's test-mode webhook events to a local URL, in the
// spirit of `stripe listen` (DESIGN.md section 6, issue 6).
//
//   SK_API_KEY=sk_test_… sk-listen --forward-to http://localhost:4242/hook
//
// It starts a receiver on an ephemeral loopback port, creates a test-mode webhook
// endpoint for it (enabled_events ["*"]), prints the endpoint's signing secret once,
// and forwards every delivery's body and webhook-* headers unchanged, so the target
// verifies signatures with that secret. The worker is answered with the target's
// status (2xx only when the forward succeeded, so failures are retried by the API's
// schedule). SIGINT or SIGTERM deletes the endpoint.
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "client.hpp"

using sk::tools::Client;
using sk::tools::HttpResponse;

namespace {

constexpr long kForwardTimeoutMs = 9000;  // below the worker's 10 s, so it sees our answer
constexpr long kApiTimeoutMs = 15000;
constexpr size_t kMaxBody = 1 << 20;

struct Options {
  std::optional<std::string> forward_to;
  std::string events = "*";
  std::string api_base;
  std::string key;
};

std::mutex g_out_mu;

void say(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_out_mu);
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

void complain(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_out_mu);
  std::fputs(("sk-listen: " + line + "\n").c_str(), stderr);
}

void usage() {
  std::fputs(
      "usage: sk-listen [--forward-to URL] [--events TYPE,TYPE…] [--api-base URL]\n"
      "  Forwards this account's test-mode webhook events to URL (without it, only prints them).\n"
      "  SK_API_KEY   a test key with write scope (sk_test_… or rk_test_…); live keys are refused\n"
      "  SK_API_BASE  the API (default http://127.0.0.1:8080)\n",
      stderr);
}

std::optional<Options> parse_args(int argc, char** argv) {
  Options o;
  o.api_base = sk::tools::env_or("SK_API_BASE", "http://127.0.0.1:8080");
  o.key = sk::tools::env_or("SK_API_KEY", "");
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      if (a == flag && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (auto v = value("--forward-to")) o.forward_to = *v;
    else if (auto v = value("--events")) o.events = *v;
    else if (auto v = value("--api-base")) o.api_base = *v;
    else if (a == "-h" || a == "--help") return std::nullopt;
    else {
      complain("unknown argument " + a);
      return std::nullopt;
    }
  }
  while (!o.api_base.empty() && o.api_base.back() == '/') o.api_base.pop_back();
  return o;
}

struct Listener {
  Options opt;
  std::string endpoint_id;
};

// One delivery being received.
struct Upload {
  std::string body;
  bool too_large = false;
};

std::string header(MHD_Connection* c, const char* name) {
  const char* v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
  return v ? v : "";
}

MHD_Result answer(MHD_Connection* c, unsigned status, const std::string& text) {
  MHD_Response* r = MHD_create_response_from_buffer(text.size(), const_cast<char*>(text.data()), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
  MHD_Result ok = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ok;
}

// Forwards one delivery and returns the status to give the worker.
unsigned forward(const Listener& l, MHD_Connection* c, const std::string& body) {
  std::string id = header(c, "webhook-id");
  std::string type = "?";
  auto event = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (event.is_object()) {
    if (event.contains("type") && event["type"].is_string()) type = event["type"].get<std::string>();
    if (id.empty() && event.contains("id") && event["id"].is_string()) id = event["id"].get<std::string>();
  }
  std::string line = sk::tools::local_time_now() + "  " + type + "  " + id;
  if (!l.opt.forward_to) {
    say(line);
    return 200;
  }
  sk::tools::Headers headers;
  std::string content_type = header(c, "Content-Type");
  headers.emplace_back("Content-Type", content_type.empty() ? "application/json" : content_type);
  for (const char* name : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
    std::string v = header(c, name);
    if (!v.empty()) headers.emplace_back(name, v);
  }
  Client client;
  HttpResponse r = client.request("POST", *l.opt.forward_to, headers, body, kForwardTimeoutMs);
  if (r.status == 0) {
    say(line + "  -> failed: " + r.error + "  POST " + *l.opt.forward_to);
    return 502;
  }
  say(line + "  -> " + std::to_string(r.status) + "  POST " + *l.opt.forward_to);
  return r.status >= 100 && r.status <= 599 ? static_cast<unsigned>(r.status) : 502;
}

MHD_Result on_request(void* cls, MHD_Connection* c, const char*, const char* method, const char*,
                      const char* upload_data, size_t* upload_data_size, void** state) {
  auto* l = static_cast<Listener*>(cls);
  if (!*state) {
    *state = new Upload();
    return MHD_YES;
  }
  auto* up = static_cast<Upload*>(*state);
  if (*upload_data_size > 0) {
    if (up->body.size() + *upload_data_size > kMaxBody) up->too_large = true;
    else up->body.append(upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (std::strcmp(method, "POST") != 0) return answer(c, 405, "sk-listen receives webhooks with POST\n");
  if (up->too_large) return answer(c, 413, "too large\n");
  try {
    unsigned status = forward(*l, c, up->body);
    return answer(c, status, "sk-listen: forwarded, target answered " + std::to_string(status) + "\n");
  } catch (const std::exception& e) {
    complain(e.what());
    return answer(c, 500, "sk-listen failed\n");
  }
}

void on_completed(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
  delete static_cast<Upload*>(*state);
  *state = nullptr;
}

// One API call, retried with the same Idempotency-Key while the API is briefly
// unavailable (503 while PostgreSQL restarts, 429, no connection): the retries are safe.
HttpResponse call_api(Client& api, const Options& o, const std::string& method, const std::string& path,
                      const std::optional<std::string>& body) {
  sk::tools::Headers headers = {{"Authorization", "Bearer " + o.key},
                                {"Content-Type", "application/json"},
                                {"Idempotency-Key", "sk-listen-" + sk::tools::random_token(24)}};
  HttpResponse r;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt) usleep(200000u << attempt);
    r = api.request(method, o.api_base + "/inventory/v1" + path, headers, body, kApiTimeoutMs);
    if (r.status != 0 && r.status != 503 && r.status != 429) break;
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_args(argc, argv);
  if (!parsed) {
    usage();
    return 2;
  }
  Listener l{*parsed, {}};
  const std::string& key = l.opt.key;
  if (key.empty()) {
    complain("set SK_API_KEY to a test key (sk_test_…); make run prints one.");
    return 2;
  }
  if (key.rfind("sk_live_", 0) == 0 || key.rfind("rk_live_", 0) == 0) {
    complain("refusing a live key: sk-listen forwards test-mode events only. Use your sk_test_… key.");
    return 2;
  }
  if (key.rfind("sk_test_", 0) != 0 && key.rfind("rk_test_", 0) != 0) {
    complain("SK_API_KEY is not an SK Inventory test key (sk_test_… or rk_test_…).");
    return 2;
  }

  // Signals go to the main thread's sigwait only: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  sk::tools::init_http();

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;  // ephemeral
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, nullptr, nullptr,
      &on_request, &l, MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&addr), MHD_OPTION_NOTIFY_COMPLETED,
      &on_completed, nullptr, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
  if (!daemon) {
    complain("cannot listen on 127.0.0.1");
    return 1;
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  unsigned port = info ? info->port : 0;
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/webhook";

  nlohmann::json events = nlohmann::json::array();
  for (size_t start = 0; start <= l.opt.events.size();) {
    size_t end = l.opt.events.find(',', start);
    if (end == std::string::npos) end = l.opt.events.size();
    if (end > start) events.push_back(l.opt.events.substr(start, end - start));
    start = end + 1;
  }
  nlohmann::json request = {
      {"url", url},
      {"enabled_events", events},
      {"description", "sk-listen" + (l.opt.forward_to ? " forwarding to " + *l.opt.forward_to : std::string())},
  };
  Client api;
  HttpResponse created = call_api(api, l.opt, "POST", "/webhook_endpoints", request.dump());
  auto endpoint = nlohmann::json::parse(created.body, nullptr, /*allow_exceptions=*/false);
  if (created.status != 200 || !endpoint.is_object() || !endpoint.contains("secret")) {
    complain("could not create a webhook endpoint at " + l.opt.api_base + ": " + sk::tools::problem_summary(created));
    MHD_stop_daemon(daemon);
    return 1;
  }
  l.endpoint_id = endpoint.value("id", "");

  say("Ready! Your webhook signing secret is " + endpoint["secret"].get<std::string>() + " (^C to quit)");
  say(l.opt.forward_to ? "Forwarding test-mode events to " + *l.opt.forward_to + " (endpoint " + l.endpoint_id + ")"
                       : "Printing test-mode events (endpoint " + l.endpoint_id + "); --forward-to URL forwards them");

  int sig = 0;
  sigwait(&signals, &sig);
  HttpResponse deleted = call_api(api, l.opt, "DELETE", "/webhook_endpoints/" + l.endpoint_id, std::nullopt);
  MHD_stop_daemon(daemon);
  if (deleted.status != 200) {
    complain("could not delete webhook endpoint " + l.endpoint_id + ": " + sk::tools::problem_summary(deleted));
    return 1;
  }
  say("Deleted webhook endpoint " + l.endpoint_id + ".");
  return 0;
}
