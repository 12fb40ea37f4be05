#include "webhooks/signing.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace sk::webhooks {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes; drop them.
  size_t len = static_cast<size_t>(n);
  for (size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --len;
  out.resize(len);
  return out;
}

std::string new_secret() {
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) throw std::runtime_error("RAND_bytes failed");
  return "whsec_" + base64_encode(std::string_view(reinterpret_cast<const char*>(key), sizeof key));
}

std::optional<std::string> sign(const std::string& secret, const std::string& msg_id, long long timestamp,
                                 const std::string& body) {
  constexpr std::string_view prefix = "whsec_";
  if (secret.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  auto key = base64_decode(std::string_view(secret).substr(prefix.size()));
  if (!key || key->empty()) return std::nullopt;
  std::string content = msg_id + "." + std::to_string(timestamp) + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
            reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &mac_len))
    return std::nullopt;
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

std::string signature_header(const std::vector<std::string>& secrets, const std::string& msg_id, long long timestamp,
                             const std::string& body) {
  std::string header;
  for (const auto& s : secrets)
    if (auto sig = sign(s, msg_id, timestamp, body)) header += (header.empty() ? "" : " ") + *sig;
  return header;
}

}  // namespace sk::webhooks
