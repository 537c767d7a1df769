// str_cat: builds a message by appending its pieces in order, strings and
// integers alike. Off the packet path (start-up errors, the control side).
// It also avoids `"literal" + std::string` temporaries, on which g++ 12 at -O3
// reports a false -Wrestrict (GCC bug 105329) that -Werror turns into an error.
#pragma once

#include <concepts>
#include <string>
#include <string_view>

namespace tcpterm::dpdk {

inline void str_append(std::string& s, std::string_view v) { s.append(v.data(), v.size()); }
inline void str_append(std::string& s, const char* v) { s.append(v); }
inline void str_append(std::string& s, const std::string& v) { s.append(v); }
template <std::integral T>
void str_append(std::string& s, T v) {
  s.append(std::to_string(v));
}

template <class... A>
std::string str_cat(const A&... a) {
  std::string s;
  (str_append(s, a), ...);
  return s;
}

}  // namespace tcpterm::dpdk
