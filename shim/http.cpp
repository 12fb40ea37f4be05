#include "http.hpp"

#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include "config.hpp"
#include "platform/ulid.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "rate_limit.hpp"
#include "lanes.hpp"

namespace sk::shim {
namespace {

using Clock = std::chrono::steady_clock;

// Set on sk-http: an answer given there needs no wake-up, only one more MHD_run().
thread_local bool t_on_http_thread = false;
thread_local bool t_resumed = false;

// How far past the body limit an upload is read (and dropped) to deliver its 413.
constexpr size_t kMaxDrainFactor = 2;

// State of one request, from the URI callback to MHD's completion notice.
struct Exchange {
  Clock::time_point start = Clock::now();
  std::chrono::system_clock::time_point wall = std::chrono::system_clock::now();
  std::string request_id;
  std::string method;
  std::string path;
  std::optional<std::string> query;
  const Route* route = nullptr;
  bool started = false;       // the access handler ran once (headers are parsed)
  bool in_flight = false;
  std::optional<RateDecision> rate;
  std::optional<Response> refusal;  // decided from the headers, sent once the body is in
  bool dispatched = false;          // the handler has it; the connection is suspended
  std::atomic<bool> answered{false};
  std::optional<Response> answer;   // the handler's, set before the connection resumes
  std::string body;
  bool has_body = false;
  bool too_large = false;
  size_t bytes_in = 0;
  bool responded = false;
  int status = 0;
  size_t bytes_out = 0;
  bool replayed = false;

  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start).count(); }
};

// Splits the request-target exactly as sent. MHD hands the handler a percent-decoded
// path and parsed arguments; sk.invoke() wants the raw query, and a raw path keeps
// decoded NULs, '%2F' and invalid UTF-8 from ever reaching routing.
void split_target(std::string_view uri, Exchange& x) {
  // absolute-form (RFC 9112 3.2.2): drop scheme and authority.
  if (uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0) {
    size_t slash = uri.find('/', uri.find("//") + 2);
    uri = slash == std::string_view::npos ? std::string_view("/") : uri.substr(slash);
  }
  size_t hash = uri.find('#');
  if (hash != std::string_view::npos) uri = uri.substr(0, hash);
  size_t q = uri.find('?');
  x.path = std::string(uri.substr(0, q));
  if (q != std::string_view::npos && q + 1 < uri.size()) x.query = std::string(uri.substr(q + 1));
}

MHD_Result collect_header(void* cls, MHD_ValueKind, const char* name, const char* value) {
  try {
    auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
    headers->emplace_back(name ? name : "", value ? value : "");
    return MHD_YES;
  } catch (const std::exception&) {
    return MHD_NO;  // no exception may unwind into C
  }
}

std::string allow_list(const std::vector<std::string>& methods) {
  std::string out;
  for (const auto& m : methods) out += (out.empty() ? "" : ", ") + m;
  return out;
}

}  // namespace

struct HttpServer::Impl {
  static void* on_uri(void*, const char* uri, MHD_Connection*) {
    try {
      auto x = std::make_unique<Exchange>();
      split_target(uri ? uri : "/", *x);
      // Only sk-http names requests; thread_local keeps the generator lock-free.
      thread_local sk::ulid::Generator ids;
      x->request_id = ids.next_id("req");
      return x.release();
    } catch (const std::exception&) {
      return nullptr;  // on_request retries once and closes the connection if that fails too
    }
  }

  static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                               const char* upload_data, size_t* upload_data_size, void** con_cls) {
    auto* self = static_cast<HttpServer*>(cls);
    auto* x = static_cast<Exchange*>(*con_cls);
    if (!x) {  // the URI callback could not allocate
      x = static_cast<Exchange*>(on_uri(cls, url, c));
      if (!x) return MHD_NO;
      *con_cls = x;
    }
    try {
      return handle(*self, c, *x, method, upload_data, upload_data_size);
    } catch (const std::exception& e) {
      // No exception may unwind into C; the connection is closed instead.
      log_event("error", "request handler failed", {{"request_id", x->request_id}, {"error", e.what()}});
      return MHD_NO;
    }
  }

  static MHD_Result handle(HttpServer& self, MHD_Connection* c, Exchange& x, const char* method,
                           const char* upload_data, size_t* upload_data_size) {
    const Config& cfg = self.services_.config;
    if (!x.started) {
      x.started = true;
      x.in_flight = true;
      ++self.in_flight_;
      x.method = method;
      x.route = match_route(self.routes_, x.path);
      // Refusals that need no body are decided now but sent after the body (read and
      // dropped, never buffered): MHD closes a connection whose response was queued
      // before the body, and a client being rate limited should keep its connection.
      if ((!x.route || x.route->rate_limited) && self.services_.limiter.enabled()) {
        const char* auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (auto token = bearer_token(auth)) {
          x.rate = self.services_.limiter.take(*token);
          if (!x.rate->allowed) {
            x.refusal = problem(429, "rate_limited",
                                "Too many requests for this API key. Retry after the number of seconds in the "
                                "Retry-After header.",
                                x.request_id);
            x.refusal->headers.emplace_back(MHD_HTTP_HEADER_RETRY_AFTER, std::to_string(x.rate->retry_after_s));
          }
        }
      }
      if (!x.refusal && !x.route) {
        x.refusal = problem(404, "route_not_found", "No route matches " + x.method + " " + x.path + ".", x.request_id);
      } else if (!x.refusal) {
        const auto& allowed = x.route->methods;
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), x.method) == allowed.end()) {
          x.refusal = problem(405, "method_not_allowed", x.method + " is not allowed on " + x.path + ".", x.request_id);
          x.refusal->headers.emplace_back(MHD_HTTP_HEADER_ALLOW, allow_list(allowed));
        }
      }
      // A declared length over the limit is read and dropped, and the 413 sent once it is
      // in. Answered before the body, MHD closes a connection the client is still writing
      // to, and the client's kernel may then reset it before the 413 is read (a few
      // percent of the time here). Past the drain bound it is refused before a byte of it
      // is read (and before MHD sends 100 Continue), and the connection closes.
      if (const char* cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        unsigned long long declared = std::strtoull(cl, nullptr, 10);
        if (declared > kMaxDrainFactor * cfg.max_body_bytes) return too_large(self, c, x);
        if (declared > cfg.max_body_bytes) mark_too_large(x);
        else if (!x.refusal) x.body.reserve(static_cast<size_t>(declared));
      }
      return MHD_YES;
    }

    if (*upload_data_size > 0) {
      size_t n = *upload_data_size;
      *upload_data_size = 0;
      x.bytes_in += n;
      x.has_body = true;
      if (x.responded) return MHD_YES;
      // Dropping what follows the limit, unbuffered, lets the 413 reach a client that
      // overshot a little; one streaming on regardless loses the connection instead.
      if (x.too_large) return x.bytes_in > kMaxDrainFactor * cfg.max_body_bytes ? MHD_NO : MHD_YES;
      if (x.bytes_in > cfg.max_body_bytes) return too_large(self, c, x);
      if (!x.refusal) x.body.append(upload_data, n);
      return MHD_YES;
    }

    if (x.responded) return MHD_YES;
    if (x.too_large) return too_large(self, c, x);
    if (x.refusal) return send(self, c, x, *x.refusal);
    if (x.answer) {  // called again after the resume
      MHD_Result ok = send(self, c, x, *x.answer);
      x.answer.reset();
      return ok;
    }
    if (x.dispatched) return MHD_YES;
    return dispatch(self, c, x);
  }

  // The connection is suspended before the handler runs, since the answer may come from
  // another thread before the handler has even returned. The answer resumes it, and MHD
  // then calls the access handler once more, which sends it.
  static MHD_Result dispatch(HttpServer& self, MHD_Connection* c, Exchange& x) {
    Request req;
    req.method = x.method;
    req.path = x.path;
    req.query = x.query;
    if (x.has_body) req.body = std::move(x.body);
    req.request_id = x.request_id;
    req.received = x.start;
    MHD_get_connection_values(c, MHD_HEADER_KIND, &collect_header, &req.headers);
    Respond respond = [c, xp = &x, sp = &self](Response r) {
      if (xp->answered.exchange(true)) return;  // a second answer would be a bug; MHD must not see it
      xp->answer = std::move(r);
      MHD_resume_connection(c);
      // MHD's own signal can be consumed by a run already past this connection: sk-http
      // is told to run MHD once more (directly, when this is sk-http).
      if (t_on_http_thread) t_resumed = true;
      else sp->wake();
    };
    x.dispatched = true;
    MHD_suspend_connection(c);
    try {
      x.route->handler(std::move(req), self.services_, respond);
    } catch (const std::exception& e) {
      // Handlers throw only before they hand the request on, so nothing else answers it.
      log_event("error", "route handler failed", {{"request_id", x.request_id}, {"error", e.what()}});
      respond(internal_error(x.request_id));
    }
    return MHD_YES;
  }

  // The body is over the limit: nothing more of it is kept.
  static void mark_too_large(Exchange& x) {
    if (x.too_large) return;
    x.too_large = true;
    x.status = 413;  // logged and counted even if the connection is cut before sending
    std::string().swap(x.body);
  }

  // Only a declared Content-Length past the drain bound is answered before the body. An
  // upload is cut off from the buffer the moment it passes the limit, but MHD 0.9.75
  // refuses to queue a response in the middle of an upload (MHD_queue_response returns
  // MHD_NO), so that 413 goes out when the upload ends, or never if the client keeps
  // streaming past kMaxDrainFactor times the limit.
  static MHD_Result too_large(HttpServer& self, MHD_Connection* c, Exchange& x) {
    mark_too_large(x);
    Response r = problem(413, "request_too_large",
                         "The request body exceeds the limit of " +
                             std::to_string(self.services_.config.max_body_bytes) + " bytes.",
                         x.request_id);
    MHD_Result ok = send(self, c, x, r);
    // Refused mid-upload: keep consuming so the connection can still carry the answer.
    return x.responded ? ok : MHD_YES;
  }

  static MHD_Result send(HttpServer& self, MHD_Connection* c, Exchange& x, Response& r) {
    MHD_Response* resp = MHD_create_response_from_buffer(r.body.size(), r.body.data(), MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
    MHD_add_response_header(resp, "Request-Id", x.request_id.c_str());
    if (r.replayed) MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    if (x.rate) {
      MHD_add_response_header(resp, "RateLimit-Policy", self.services_.limiter.policy_header().c_str());
      MHD_add_response_header(resp, "RateLimit", RateLimiter::limit_header(*x.rate).c_str());
    }
    for (const auto& [name, value] : r.headers) MHD_add_response_header(resp, name.c_str(), value.c_str());
    // While draining, keep-alive would let a client start new requests indefinitely.
    if (self.draining_) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(r.status), resp);
    MHD_destroy_response(resp);
    if (ok == MHD_YES) {
      x.responded = true;
      x.status = r.status;
      x.bytes_out = r.body.size();
      x.replayed = r.replayed;
      // Counted here, not on completion: MHD may finish the connection after the client
      // has already read the answer and scraped /metrics on another connection.
      self.services_.metrics.observe(metrics_route(x), method_label(x.method), x.status, x.elapsed());
      if (x.replayed) self.services_.metrics.count_replay();
    }
    return ok;
  }

  static std::string metrics_route(const Exchange& x) {
    if (!x.route) return "{unmatched}";
    return x.route->prefix ? route_label(x.path) : x.route->path;
  }

  static void on_completed(void* cls, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode toe) {
    auto* self = static_cast<HttpServer*>(cls);
    auto* x = static_cast<Exchange*>(*con_cls);
    *con_cls = nullptr;
    if (!x) return;
    try {
      std::string route = metrics_route(*x);
      AccessRecord r;
      r.ts = x->wall;
      r.request_id = x->request_id;
      r.method = x->method;
      r.path = x->path;
      r.route = route;
      r.status = x->status;
      r.seconds = x->elapsed();
      r.replayed = x->replayed;
      r.bytes_in = x->bytes_in;
      r.bytes_out = x->bytes_out;
      if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) r.termination = static_cast<int>(toe);
      log_access(r);
    } catch (const std::exception&) {
      // Losing one log line beats unwinding into MHD.
    }
    if (x->in_flight) --self->in_flight_;
    delete x;
  }

  // MHD reports per-connection events ("Server reached connection limit") that an
  // overload turns into thousands of lines a second; each distinct message is written
  // at most once a second, with the number of repeats it stands for.
  static void on_mhd_log(void*, const char* fmt, va_list ap) {
    try {
      log_mhd_message(fmt, ap);
    } catch (const std::exception&) {
      // Losing one log line beats unwinding into MHD.
    }
  }

  static void log_mhd_message(const char* fmt, va_list ap) {
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string msg(buf);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
    static std::mutex mu;
    static std::map<std::string, std::pair<Clock::time_point, unsigned long>> seen;  // last written, suppressed
    unsigned long repeated = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto now = Clock::now();
      auto it = seen.find(msg);
      if (it != seen.end() && now - it->second.first < std::chrono::seconds(1)) {
        ++it->second.second;
        return;
      }
      if (it != seen.end()) repeated = it->second.second;
      if (seen.size() >= 64) seen.clear();  // messages quote addresses and sizes; keep it bounded
      seen[msg] = {now, 0};
    }
    ordered_json fields = ordered_json::object();
    if (repeated) fields["suppressed_repeats"] = repeated;
    log_event("warn", "libmicrohttpd: " + msg, fields);
  }
};

HttpServer::HttpServer(Services& services, std::vector<Route> routes)
    : services_(services), routes_(std::move(routes)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  const Config& cfg = services_.config;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* ai = nullptr;
  std::string port = std::to_string(cfg.http_port);
  if (int rc = getaddrinfo(cfg.http_host.c_str(), port.c_str(), &hints, &ai); rc != 0 || !ai)
    throw std::runtime_error("cannot resolve SK_HTTP_HOST " + cfg.http_host + ": " + gai_strerror(rc));
  sockaddr_storage addr{};
  std::memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
  bool v6 = ai->ai_family == AF_INET6;
  freeaddrinfo(ai);

  // MHD without a thread of its own: sk-http runs its epoll set (see loop()). Handlers
  // never block, so a slow sk.invoke() holds only its own client. Suspend and resume
  // bring the inter-thread channel (ITC) that MHD_quiesce_daemon needs too.
  unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
  if (v6) flags |= MHD_USE_IPv6;
  daemon_ = MHD_start_daemon(
      flags, cfg.http_port, nullptr, nullptr, &Impl::on_request, this,
      MHD_OPTION_EXTERNAL_LOGGER, &Impl::on_mhd_log, this,  // first, or early messages escape it
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&addr),
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(cfg.max_connections),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(cfg.idle_timeout_s),
      MHD_OPTION_URI_LOG_CALLBACK, &Impl::on_uri, this,
      MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, this,
      MHD_OPTION_END);
  if (!daemon_)
    throw std::runtime_error("cannot listen on " + cfg.http_host + ":" + port +
                             " (address in use or not permitted)");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  services_.read_lanes.drive([this] { wake(); });
  services_.write_lanes.drive([this] { wake(); });
  loop_ = std::thread([this] { loop(); });
  pthread_setname_np(loop_.native_handle(), "sk-http");
}

void HttpServer::wake() {
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

// sk-http: MHD's epoll set, the lanes' sockets and the wake-up channel, in one poll. A
// call's result and the connection waiting for it meet here without a thread switch.
void HttpServer::loop() {
  t_on_http_thread = true;
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_EPOLL_FD);
  int mhd_fd = info ? info->epoll_fd : -1;
  std::vector<pollfd> fds;
  while (!stop_loop_) {
    try {
      loop_once(fds, mhd_fd);
    } catch (const std::exception& e) {
      // Everything below answers its own failures; this keeps the one thread alive.
      log_event("error", "HTTP loop failed", {{"error", e.what()}});
    }
  }
}

void HttpServer::loop_once(std::vector<pollfd>& fds, int mhd_fd) {
  fds.clear();
  fds.push_back({wake_fd_, POLLIN, 0});
  fds.push_back({mhd_fd, POLLIN, 0});
  Lanes& reads = services_.read_lanes;
  Lanes& writes = services_.write_lanes;
  reads.add_poll_fds(fds);
  writes.add_poll_fds(fds);
  // MHD's next deadline (idle connections) or a queued write's, at most a second away.
  MHD_UNSIGNED_LONG_LONG next = 1000;
  int timeout = MHD_get_timeout(daemon_, &next) == MHD_YES ? static_cast<int>(std::min<MHD_UNSIGNED_LONG_LONG>(next, 1000)) : 1000;
  if (int queued = writes.poll_timeout_ms(); queued >= 0) timeout = std::min(timeout, queued);
  if (poll(fds.data(), fds.size(), timeout) < 0) return;  // EINTR
  if (fds[0].revents) {
    uint64_t n;
    (void)!read(wake_fd_, &n, sizeof n);
    if (quiesce_requested_.exchange(false)) {
      MHD_socket fd = MHD_quiesce_daemon(daemon_);
      if (fd != MHD_INVALID_SOCKET) {
        listen_fd_ = fd;
        // A quiesced socket still completes handshakes into its backlog, leaving new
        // clients hanging until exit. shutdown() makes the kernel refuse them now, so
        // they fail over at once; the descriptor itself stays open as MHD requires.
        ::shutdown(fd, SHUT_RDWR);
      }
      quiesced_ = true;
    }
  }
  // Answers what the lanes completed: resumes connections.
  reads.on_polled(fds.data() + 2);
  writes.on_polled(fds.data() + 2 + reads.size());
  // MHD sends what was resumed before the run; an answer given during it (a handler
  // that answers at once) needs one more.
  do {
    t_resumed = false;
    MHD_run(daemon_);
  } while (t_resumed);
}

void HttpServer::quiesce() {
  draining_ = true;
  if (!loop_.joinable() || quiesced_) return;
  quiesce_requested_ = true;
  wake();
  while (!quiesced_) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

bool HttpServer::wait_idle(std::chrono::milliseconds timeout) const {
  auto deadline = Clock::now() + timeout;
  while (in_flight_.load() > 0) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void HttpServer::stop() {
  if (loop_.joinable()) {
    stop_loop_ = true;
    wake();
    loop_.join();
  }
  if (wake_fd_ >= 0) {
    ::close(wake_fd_);
    wake_fd_ = -1;
  }
  if (daemon_) {
    MHD_stop_daemon(daemon_);
    daemon_ = nullptr;
  }
  // MHD hands a quiesced socket to the caller, but it may only be closed after stop.
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

}  // namespace sk::shim
