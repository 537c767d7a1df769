// The configuration loader: TOML (toml++) and `--set` text in, a validated
// Config out. Everything is driven by the knob tables in knobs.h: each
// section is a "visitor" that hands every row, typed, to a generic lambda,
// and the same few per-type functions parse a TOML node, parse override text,
// describe what is allowed and format the default. So a new knob is one row.
//
// Layout: per-type value handling (integers, bool, AppKind, CidrList,
// std::string, StringList), the section visitors and kSections (a new section
// is a visitor struct and a row there), the TOML walk that collects every
// error with its line, the cross-field checks (distinct listener ports and
// port devices), overrides, and the --help / example file / README generators.
//
// Errors are collected rather than thrown at the first one, so a user fixes a
// file in one pass; they are sorted by line and thrown together as one
// ConfigError, and nothing is returned unless there were none.
#include "config/config.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <type_traits>

#include <toml++/toml.h>

namespace tcpterm {

std::string_view app_kind_name(AppKind k) {
  switch (k) {
#define TCPTERM_APP_NAME(name, help) \
  case AppKind::name:                \
    return #name;
    TCPTERM_APP_KINDS(TCPTERM_APP_NAME)
#undef TCPTERM_APP_NAME
  }
  return "?";
}

std::optional<AppKind> parse_app_kind(std::string_view s) {
#define TCPTERM_APP_PARSE(name, help) \
  if (s == #name) return AppKind::name;
  TCPTERM_APP_KINDS(TCPTERM_APP_PARSE)
#undef TCPTERM_APP_PARSE
  return std::nullopt;
}

namespace {

// Strict decimal: digits only, no sign, no spaces; nullopt past uint64.
std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<Ipv4Cidr> parse_ipv4_cidr(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view a = s.substr(0, slash), len = s.substr(slash + 1);
  // Leading zeros are refused in both parts: "010" is octal to inet_aton.
  auto plain = [](std::string_view d) { return !d.empty() && d.size() <= 3 && (d.size() == 1 || d[0] != '0'); };
  if (!plain(len) || len.size() > 2) return std::nullopt;
  auto plen = parse_decimal(len);
  if (!plen || *plen > 32) return std::nullopt;
  Ipv4Addr addr = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = a.find('.');
    if ((i < 3) != (dot != std::string_view::npos)) return std::nullopt;
    std::string_view octet = a.substr(0, dot);
    auto v = plain(octet) ? parse_decimal(octet) : std::nullopt;
    if (!v || *v > 255) return std::nullopt;
    addr = addr << 8 | static_cast<Ipv4Addr>(*v);
    a = i < 3 ? a.substr(dot + 1) : std::string_view{};
  }
  return Ipv4Cidr{addr, static_cast<uint8_t>(*plen)};
}

std::string format_ipv4_cidr(Ipv4Cidr c) {
  std::string s;
  for (int i = 3; i >= 0; --i) {
    s += std::to_string((c.addr >> (8 * i)) & 0xff);
    s += i ? "." : "/";
  }
  return s + std::to_string(c.prefix_len);
}

namespace {

// ---------------------------------------------------------------------------
// Diagnostics

struct Where {
  std::string source;  // file name, or "--set"
  uint32_t line = 0;   // 0: no line (a missing section, an override)
  uint32_t column = 0;
  std::string str() const { return line ? source + ":" + std::to_string(line) : source; }
};

Where at(const std::string& source, const toml::source_region& r) {
  return {source, r.begin.line, r.begin.column};
}

class Diags {
 public:
  void add(const Where& w, std::string_view key, std::string_view msg) {
    items_.push_back({w.line ? w.line : UINT32_MAX, w.column, items_.size(),
                      w.str() + ": " + std::string(key) + ": " + std::string(msg)});
  }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  void raise_if_any() {
    if (items_.empty()) return;
    std::sort(items_.begin(), items_.end());
    std::string all;
    for (const auto& i : items_) all += (all.empty() ? "" : "\n") + std::get<3>(i);
    throw ConfigError(all);
  }

 private:
  std::vector<std::tuple<uint32_t, uint32_t, size_t, std::string>> items_;
};

std::string quoted(std::string_view s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
      q += buf;
      continue;
    }
    q += c;
  }
  return q + "\"";
}

// What a TOML node holds, as the message's "got ...".
std::string describe(const toml::node& n) {
  std::ostringstream os;
  switch (n.type()) {
    case toml::node_type::string: return quoted(n.as_string()->get());
    case toml::node_type::integer: return std::to_string(n.as_integer()->get());
    case toml::node_type::boolean: return n.as_boolean()->get() ? "true" : "false";
    case toml::node_type::floating_point: os << *n.as_floating_point(); return os.str();
    case toml::node_type::date: os << *n.as_date(); return os.str();
    case toml::node_type::time: os << *n.as_time(); return os.str();
    case toml::node_type::date_time: os << *n.as_date_time(); return os.str();
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// ---------------------------------------------------------------------------
// The typed rows

template <class T> struct BoundOf { using type = int64_t; };  // integers; CidrList: entry count
template <> struct BoundOf<bool> { using type = bool; };
template <> struct BoundOf<AppKind> { using type = AppKind; };

template <class S, class T>
struct Knob {
  std::string_view name;
  T S::*member;
  typename BoundOf<T>::type min, max;
  bool required;
  std::string_view linux_name, help;
  T def;
};

constexpr bool is_required(Required) { return true; }
template <class U> constexpr bool is_required(const U&) { return false; }

template <class T> constexpr bool is_int = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <class T> constexpr bool is_list = std::is_same_v<T, CidrList> || std::is_same_v<T, StringList>;

// Compile-time check of every row: the range fits the type, the default lies in it.
template <class T, class D, class Mn, class Mx>
constexpr bool row_ok(const D& def, Mn mn, Mx mx) {
  if constexpr (is_int<T>) {
    if (!(0 <= mn && mn <= mx && static_cast<uint64_t>(mx) <= std::numeric_limits<T>::max())) return false;
    if constexpr (std::is_same_v<D, Required>) return true;
    else return mn <= def && def <= mx;
  } else if constexpr (is_list<T> || std::is_same_v<T, std::string>) {
    return 0 <= mn && mn <= mx;  // bounds on the size; a default is written out in full
  } else {
    if constexpr (std::is_same_v<D, Required>) return mn <= mx;
    else return mn <= def && def <= mx;
  }
}
#define TCPTERM_CHECK_ROW(n, type, def, mn, mx, lx, help) \
  static_assert(row_ok<type>(def, mn, mx), #n ": range outside its type, or default outside its range");
TCPTERM_TCP_KNOBS(TCPTERM_CHECK_ROW)
TCPTERM_ENGINE_KNOBS(TCPTERM_CHECK_ROW)
TCPTERM_LISTENER_KNOBS(TCPTERM_CHECK_ROW)
TCPTERM_DPDK_KNOBS(TCPTERM_CHECK_ROW)
TCPTERM_PORT_KNOBS(TCPTERM_CHECK_ROW)
#undef TCPTERM_CHECK_ROW

// "what is allowed", shared by error messages and --help.
template <class S, class T>
std::string allowed(const Knob<S, T>& k) {
  if constexpr (is_int<T>) {
    return "an integer in [" + std::to_string(k.min) + ", " + std::to_string(k.max) + "]";
  } else if constexpr (std::is_same_v<T, bool>) {
    return "true or false";
  } else if constexpr (std::is_same_v<T, AppKind>) {
    std::string s = "one of ";
    for (auto a = static_cast<int>(k.min); a <= static_cast<int>(k.max); ++a)
      s += (a == static_cast<int>(k.min) ? "" : ", ") + quoted(app_kind_name(static_cast<AppKind>(a)));
    return s;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return "a string of " + std::to_string(k.min) + " to " + std::to_string(k.max) + " characters";
  } else if constexpr (std::is_same_v<T, StringList>) {
    return "an array of " + std::to_string(k.min) + " to " + std::to_string(k.max) + " strings";
  } else {
    static_assert(std::is_same_v<T, CidrList>);
    return "an array of " + std::to_string(k.min) + " to " + std::to_string(k.max) +
           " IPv4 addresses like \"198.18.0.2/24\"";
  }
}

template <class T>
std::string format_value(const T& v) {
  if constexpr (is_int<T>) {
    return std::to_string(v);
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, AppKind>) {
    return std::string(app_kind_name(v));
  } else if constexpr (std::is_same_v<T, std::string>) {
    return v;
  } else {
    // Appended piecewise: g++ 12 -O3 warns falsely on "," + string (-Wrestrict, GCC bug 105329).
    std::string s;
    for (const auto& x : v) {
      if (!s.empty()) s += std::is_same_v<T, StringList> ? ' ' : ',';
      if constexpr (std::is_same_v<T, StringList>) {
        s += x;
      } else {
        s += format_ipv4_cidr(x);
      }
    }
    return s;
  }
}

// Why an address cannot be one of the engine's own, or nullopt.
std::optional<std::string> host_address_problem(Ipv4Cidr c) {
  const Ipv4Addr a = c.addr;
  if (c.prefix_len == 0) return "prefix length 0 puts all of IPv4 on-link";
  if (a >> 24 == 0) return "\"this network\", 0.0.0.0/8";
  if (a >> 24 == 127) return "loopback";
  if (a >> 28 == 0xe) return "multicast";
  if (a >> 28 == 0xf) return "reserved or broadcast";
  if (c.prefix_len <= 30) {
    const Ipv4Addr host_mask = ~Ipv4Addr{0} >> c.prefix_len;
    if ((a & host_mask) == 0) return "the subnet's network address";
    if ((a & host_mask) == host_mask) return "the subnet's broadcast address";
  }
  return std::nullopt;
}

// One candidate address (from TOML or override text): syntax, host rules, duplicates.
void check_cidr(std::string_view text, const Where& w, const std::string& key, size_t index,
                CidrList& out, Diags& d) {
  const std::string ekey = key + "[" + std::to_string(index) + "]";
  auto c = parse_ipv4_cidr(text);
  if (!c) {
    d.add(w, ekey, "expected an IPv4 address with a prefix length, like \"198.18.0.2/24\", got " + quoted(text));
    return;
  }
  if (auto p = host_address_problem(*c)) {
    d.add(w, ekey, "expected a unicast host address, got " + quoted(text) + " (" + *p + ")");
    return;
  }
  for (const auto& o : out)
    if (o.addr == c->addr) {
      std::string addr = format_ipv4_cidr(*c);
      addr.resize(addr.find('/'));
      d.add(w, ekey, quoted(text) + ": address " + addr + " is listed twice");
      return;
    }
  out.push_back(*c);
}

template <class S, class T>
void check_count(const Knob<S, T>& k, size_t n, const Where& w, const std::string& key, Diags& d) {
  if (n < static_cast<size_t>(k.min) || n > static_cast<size_t>(k.max))
    d.add(w, key, "expected " + allowed(k) + ", got " + std::to_string(n) + (n == 1 ? " entry" : " entries"));
}

// TOML node -> value. On error, adds a message and leaves `out` as it was.
template <class S, class T>
void read_node(const Knob<S, T>& k, const toml::node& n, T& out, const Where& w, const std::string& key, Diags& d) {
  auto wrong = [&] { d.add(w, key, "expected " + allowed(k) + ", got " + describe(n)); };
  if constexpr (is_int<T>) {
    const auto* i = n.as_integer();
    if (!i || i->get() < k.min || i->get() > k.max) return wrong();
    out = static_cast<T>(i->get());
  } else if constexpr (std::is_same_v<T, bool>) {
    const auto* b = n.as_boolean();
    if (!b) return wrong();
    out = b->get();
  } else if constexpr (std::is_same_v<T, AppKind>) {
    const auto* s = n.as_string();
    auto a = s ? parse_app_kind(s->get()) : std::nullopt;
    if (!a || *a < k.min || *a > k.max) return wrong();
    out = *a;
  } else if constexpr (std::is_same_v<T, std::string>) {
    const auto* s = n.as_string();
    if (!s || s->get().size() < static_cast<size_t>(k.min) || s->get().size() > static_cast<size_t>(k.max))
      return wrong();
    out = s->get();
  } else if constexpr (std::is_same_v<T, StringList>) {
    const auto* arr = n.as_array();
    if (!arr) return wrong();
    const size_t before = d.size();
    StringList v;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = *arr->get(i);
      if (const auto* s = e.as_string())
        v.push_back(s->get());
      else
        d.add(at(w.source, e.source()), key + "[" + std::to_string(i) + "]", "expected a string, got " + describe(e));
    }
    if (d.size() != before) return;
    check_count(k, v.size(), w, key, d);
    out = std::move(v);
  } else {
    const auto* arr = n.as_array();
    if (!arr) return wrong();
    const size_t before = d.size();
    CidrList v;
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::node& e = *arr->get(i);
      const Where ew = at(w.source, e.source());
      if (const auto* s = e.as_string())
        check_cidr(s->get(), ew, key, i, v, d);
      else
        d.add(ew, key + "[" + std::to_string(i) + "]",
              "expected an IPv4 address with a prefix length, like \"198.18.0.2/24\", got " + describe(e));
    }
    if (d.size() != before) return;
    check_count(k, v.size(), w, key, d);
    out = std::move(v);
  }
}

// Override text -> value. Same checks, "got" is the text as typed.
template <class S, class T>
void read_text(const Knob<S, T>& k, std::string_view text, T& out, const Where& w, const std::string& key, Diags& d) {
  auto wrong = [&] { d.add(w, key, "expected " + allowed(k) + ", got " + quoted(text)); };
  if constexpr (is_int<T>) {
    auto v = parse_decimal(text);
    if (!v || *v < static_cast<uint64_t>(k.min) || *v > static_cast<uint64_t>(k.max)) return wrong();
    out = static_cast<T>(*v);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (text == "true") out = true;
    else if (text == "false") out = false;
    else wrong();
  } else if constexpr (std::is_same_v<T, AppKind>) {
    auto a = parse_app_kind(text);
    if (!a || *a < k.min || *a > k.max) return wrong();
    out = *a;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (text.size() < static_cast<size_t>(k.min) || text.size() > static_cast<size_t>(k.max)) return wrong();
    out = std::string(text);
  } else if constexpr (std::is_same_v<T, StringList>) {
    StringList v;  // space-separated, as a shell would split them
    for (size_t pos = 0; pos < text.size();) {
      const size_t start = text.find_first_not_of(' ', pos);
      if (start == text.npos) break;
      const size_t end = std::min(text.find(' ', start), text.size());
      v.emplace_back(text.substr(start, end - start));
      pos = end;
    }
    const size_t before = d.size();
    check_count(k, v.size(), w, key, d);
    if (d.size() == before) out = std::move(v);
  } else {
    CidrList v;
    size_t i = 0, pos = 0;
    const size_t before = d.size();
    while (pos <= text.size()) {
      size_t comma = text.find(',', pos);
      std::string_view item = text.substr(pos, comma == text.npos ? text.npos : comma - pos);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (!item.empty() || comma != text.npos || i > 0) check_cidr(item, w, key, i++, v, d);
      if (comma == text.npos) break;
      pos = comma + 1;
    }
    if (d.size() != before) return;
    check_count(k, v.size(), w, key, d);
    out = std::move(v);
  }
}

// ---------------------------------------------------------------------------
// Sections. Each binds a knob table to its struct and to its place in Config:
// a single table ([tcp]) or an array of tables ([[listener]]), whose `unique`
// field must differ between entries.

#define TCPTERM_ROW(n, type, def, mn, mx, lx, help) \
  f(Knob<S, type>{#n, &S::n, mn, mx, is_required(def), lx, help, knob_initial<type>(def)});

struct TcpSection {
  using S = TcpKnobs;
  static constexpr std::string_view name = "tcp", header = "[tcp]";
  static constexpr bool many = false;
  static S& in(Config& c) { return c.tcp; }
  static const S& in(const Config& c) { return c.tcp; }
  template <class F> static void visit(F&& f) { TCPTERM_TCP_KNOBS(TCPTERM_ROW) }
};

struct EngineSection {
  using S = EngineConfig;
  static constexpr std::string_view name = "engine", header = "[engine]";
  static constexpr bool many = false;
  static S& in(Config& c) { return c.engine; }
  static const S& in(const Config& c) { return c.engine; }
  template <class F> static void visit(F&& f) { TCPTERM_ENGINE_KNOBS(TCPTERM_ROW) }
};

struct ListenerSection {
  using S = ListenerConfig;
  static constexpr std::string_view name = "listener", header = "[[listener]]", unique = "port";
  static constexpr bool many = true;
  static std::vector<S>& in(Config& c) { return c.listeners; }
  static const std::vector<S>& in(const Config& c) { return c.listeners; }
  static std::string unique_text(const S& s) { return std::to_string(s.port); }
  template <class F> static void visit(F&& f) { TCPTERM_LISTENER_KNOBS(TCPTERM_ROW) }
};

struct DpdkSection {
  using S = DpdkConfig;
  static constexpr std::string_view name = "dpdk", header = "[dpdk]";
  static constexpr bool many = false;
  static S& in(Config& c) { return c.dpdk; }
  static const S& in(const Config& c) { return c.dpdk; }
  template <class F> static void visit(F&& f) { TCPTERM_DPDK_KNOBS(TCPTERM_ROW) }
};

struct PortSection {
  using S = PortConfig;
  static constexpr std::string_view name = "port", header = "[[port]]", unique = "device";
  static constexpr bool many = true;
  static std::vector<S>& in(Config& c) { return c.ports; }
  static const std::vector<S>& in(const Config& c) { return c.ports; }
  static std::string unique_text(const S& s) { return quoted(s.device); }
  template <class F> static void visit(F&& f) { TCPTERM_PORT_KNOBS(TCPTERM_ROW) }
};

#undef TCPTERM_ROW

// Linux sysctls that used to exist and that a translated sysctl.conf may carry.
struct Removed {
  std::string_view section, name, why;
};
constexpr Removed kRemoved[] = {
    {"tcp", "tw_recycle",
     "removed in Linux 4.12 (it dropped connections from clients behind NAT); tcpterm has no "
     "counterpart: use tcp.tw_reuse or tcp.max_tw_buckets"},
};

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

// `prefix` is the key's path as the user writes it: "tcp", "listener.0".
template <class Sec>
std::string unknown_key_message(std::string_view prefix, std::string_view key) {
  for (const auto& r : kRemoved)
    if (r.section == Sec::name && r.name == key) return std::string(r.why);
  std::string best, all;
  size_t best_d = 3;  // suggest only near misses (typos)
  Sec::visit([&](const auto& k) {
    all += (all.empty() ? "" : ", ") + std::string(k.name);
    const size_t dist = edit_distance(key, k.name);
    if (dist < best_d) best_d = dist, best = std::string(k.name);
  });
  if (!best.empty()) return "unknown key, did you mean " + std::string(prefix) + "." + best + "?";
  return "unknown key; allowed in " + std::string(Sec::header) + ": " + all;
}

// One TOML table -> one struct. `prefix` is "tcp", "listener.0", ...
// Keys that a --set override supplies: a required key given there is not missing.
using OverriddenKeys = std::set<std::string, std::less<>>;

template <class Sec>
void read_table(const toml::table* t, typename Sec::S& out, const std::string& prefix, const Where& table_w,
                const OverriddenKeys& overridden, Diags& d) {
  std::set<std::string_view> seen;
  if (t)
    for (auto&& [key, node] : *t) {
      bool found = false;
      Sec::visit([&](const auto& k) {
        if (found || k.name != key.str()) return;
        found = true;
        seen.insert(k.name);
        read_node(k, node, out.*k.member, at(table_w.source, node.source()), prefix + "." + std::string(k.name), d);
      });
      if (!found)
        d.add(at(table_w.source, key.source()), prefix + "." + std::string(key.str()),
              unknown_key_message<Sec>(prefix, key.str()));
    }
  Sec::visit([&](const auto& k) {
    if (k.required && !seen.count(k.name) && !overridden.count(prefix + "." + std::string(k.name)))
      d.add(table_w, prefix + "." + std::string(k.name), "missing, expected " + allowed(k));
  });
}

// Where each array entry's unique field came from, per section, for the
// cross-field messages: a line of the file, or 0 when a --set gave it.
struct SourceMap {
  std::string source;
  std::map<std::string_view, std::vector<uint32_t>> unique_lines;
  OverriddenKeys overridden = {};
};

template <class Sec>
void read_section(const toml::node* n, Config& cfg, SourceMap& map, Diags& d) {
  if constexpr (!Sec::many) {
    read_table<Sec>(n ? n->as_table() : nullptr, Sec::in(cfg), std::string(Sec::name),
                    n ? at(map.source, n->source()) : Where{map.source}, map.overridden, d);
  } else {
    if (!n) return;
    const toml::array& arr = *n->as_array();
    for (size_t i = 0; i < arr.size(); ++i) {
      const toml::node& e = *arr.get(i);
      const std::string prefix = std::string(Sec::name) + "." + std::to_string(i);
      const Where w = at(map.source, e.source());
      if (!e.is_table()) {
        d.add(w, prefix, "expected a table, got " + describe(e));
        continue;
      }
      typename Sec::S entry;
      read_table<Sec>(e.as_table(), entry, prefix, w, map.overridden, d);
      const toml::node* u = e.as_table()->get(Sec::unique);
      map.unique_lines[Sec::name].push_back(u ? u->source().begin.line : w.line);
      Sec::in(cfg).push_back(std::move(entry));
    }
  }
}

// Top-level sections, in the order --help and the README list them.
struct SectionReader {
  std::string_view name;
  bool many;
  void (*read)(const toml::node* n, Config& cfg, SourceMap& map, Diags& d);
};

template <class Sec>
constexpr SectionReader reader() {
  return {Sec::name, Sec::many, read_section<Sec>};
}

constexpr SectionReader kSections[] = {
    reader<TcpSection>(), reader<EngineSection>(), reader<ListenerSection>(),
    reader<DpdkSection>(), reader<PortSection>(),
};

std::string sections_allowed() {
  std::string s;
  for (const auto& sec : kSections)
    s += (s.empty() ? "" : ", ") + std::string(sec.many ? "[[" : "[") + std::string(sec.name) +
         (sec.many ? "]]" : "]");
  return s;
}

// Which entry a --set changed: blamed first when two entries collide.
using Blame = std::map<std::string_view, size_t>;

// Cross-field check: the unique field of an array section's entries. A
// collision is reported at the entry an override set, else at the later one.
template <class Sec>
void check_unique(const Config& cfg, const SourceMap& map, const Blame& blame, Diags& d) {
  const auto& items = Sec::in(cfg);
  const auto lines_it = map.unique_lines.find(Sec::name);
  auto line = [&](size_t i) -> uint32_t {
    return lines_it != map.unique_lines.end() && i < lines_it->second.size() ? lines_it->second[i] : 0;
  };
  const auto blamed_it = blame.find(Sec::name);
  for (size_t i = 0; i < items.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      const std::string v = Sec::unique_text(items[i]);
      if (v != Sec::unique_text(items[j])) continue;
      size_t a = i, b = j;
      if (blamed_it != blame.end() ? blamed_it->second == j : line(j) == 0 && line(i) != 0) std::swap(a, b);
      const Where w = line(a) ? Where{map.source, line(a)} : Where{"--set"};
      d.add(w, std::string(Sec::name) + "." + std::to_string(a) + "." + std::string(Sec::unique),
            v + " is already used by " + std::string(Sec::name) + "." + std::to_string(b));
    }
}

void check_across(const Config& cfg, const SourceMap& map, const Blame& blame, Diags& d) {
  check_unique<ListenerSection>(cfg, map, blame, d);
  check_unique<PortSection>(cfg, map, blame, d);
}

// What one --set changed.
struct Changed {
  std::string_view section;  // "tcp", "listener", ...
  size_t index = 0;          // entry of an array section
  std::string field;
};

// One `--set` applied to cfg, typed and range-checked, no cross-field check.
Changed set_one(Config& cfg, std::string_view kv);

Config read_document(const toml::table& root, const std::string& source,
                     const std::vector<std::string>& overrides) {
  Config cfg;
  SourceMap map{source, {}};
  for (const auto& o : overrides) map.overridden.insert(o.substr(0, o.find('=')));
  Diags d;
  std::set<std::string_view> present;
  for (auto&& [key, node] : root) {
    const SectionReader* sec = nullptr;
    for (const auto& s : kSections)
      if (s.name == key.str()) sec = &s;
    const Where w = at(source, key.source());
    if (!sec) {
      d.add(w, key.str(), "unknown section; allowed: " + sections_allowed());
      continue;
    }
    present.insert(sec->name);
    if (sec->many ? !node.is_array() : !node.is_table()) {
      d.add(w, key.str(),
            std::string(sec->many ? "expected an array of tables [[" : "expected a table [") +
                std::string(key.str()) + (sec->many ? "]]" : "]") + ", got " + describe(node));
      continue;
    }
    sec->read(&node, cfg, map, d);
  }
  for (const auto& s : kSections)  // absent sections: defaults, and a message per required key
    if (!present.count(s.name)) s.read(nullptr, cfg, map, d);
  d.raise_if_any();
  Blame blame;  // the entry whose unique field was set last
  for (const auto& o : overrides) {
    const Changed c = set_one(cfg, o);
    auto lines = map.unique_lines.find(c.section);
    if (lines != map.unique_lines.end() && c.index < lines->second.size() &&
        ((c.section == ListenerSection::name && c.field == ListenerSection::unique) ||
         (c.section == PortSection::name && c.field == PortSection::unique))) {
      lines->second[c.index] = 0;
      blame[c.section] = c.index;
    }
  }
  check_across(cfg, map, blame, d);
  d.raise_if_any();
  return cfg;
}

}  // namespace

Config load_config_string(std::string_view toml, std::string_view source_name,
                          const std::vector<std::string>& overrides) {
  const std::string source(source_name);
  toml::table root;
  try {
    root = toml::parse(toml, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(source + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                      ": TOML syntax error: " + std::string(e.description()));
  }
  return read_document(root, source, overrides);
}

Config load_config_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  return load_config_string(text.str(), path, overrides);
}

void apply_override(Config& cfg, std::string_view kv) {
  Config next = cfg;
  const Changed c = set_one(next, kv);
  Blame blame;  // no lines: a collision names the override
  if (!c.section.empty()) blame[c.section] = c.index;
  Diags d;
  check_across(next, SourceMap{"--set", {}}, blame, d);
  d.raise_if_any();
  cfg = std::move(next);
}

namespace {

// Sets `section.KNOB` or `section.N.KNOB` if the key names this section.
template <class Sec>
bool try_set(Config& cfg, const std::vector<std::string_view>& parts, const std::string& key,
             std::string_view value, Diags& d, Changed& changed) {
  if (parts[0] != Sec::name || parts.size() != (Sec::many ? 3u : 2u)) return false;
  typename Sec::S* target = nullptr;
  if constexpr (Sec::many) {
    auto& items = Sec::in(cfg);
    const auto idx = parse_decimal(parts[1]);
    if (!idx || *idx >= items.size())
      throw ConfigError("--set: " + key + ": no such " + std::string(Sec::name) + "; " +
                        (items.empty() ? "the configuration has none"
                                       : std::string(Sec::name) + ".0 to " + std::string(Sec::name) + "." +
                                             std::to_string(items.size() - 1) + " exist"));
    target = &items[*idx];
    changed.index = *idx;
  } else {
    target = &Sec::in(cfg);
  }
  const std::string_view name = parts.back();
  bool found = false;
  Sec::visit([&](const auto& k) {
    if (found || k.name != name) return;
    found = true;
    read_text(k, value, target->*k.member, Where{"--set"}, key, d);
  });
  if (!found) d.add(Where{"--set"}, key, unknown_key_message<Sec>(key.substr(0, key.rfind('.')), name));
  changed.section = Sec::name;
  changed.field = std::string(name);
  return true;
}

Changed set_one(Config& cfg, std::string_view kv) {
  const size_t eq = kv.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw ConfigError("--set: " + quoted(kv) + ": expected KEY=VALUE, like tcp.fin_timeout=5");
  const std::string key(kv.substr(0, eq));
  const std::string_view value = kv.substr(eq + 1);

  std::vector<std::string_view> parts;
  for (size_t pos = 0;;) {
    const size_t dot = key.find('.', pos);
    parts.push_back(std::string_view(key).substr(pos, dot == std::string::npos ? std::string::npos : dot - pos));
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }

  Diags d;
  Changed changed;
  if (!try_set<TcpSection>(cfg, parts, key, value, d, changed) &&
      !try_set<EngineSection>(cfg, parts, key, value, d, changed) &&
      !try_set<ListenerSection>(cfg, parts, key, value, d, changed) &&
      !try_set<DpdkSection>(cfg, parts, key, value, d, changed) &&
      !try_set<PortSection>(cfg, parts, key, value, d, changed)) {
    std::string forms;
    for (const auto& s : kSections)
      forms += (forms.empty() ? "" : ", ") + std::string(s.name) + (s.many ? ".N.KNOB" : ".KNOB");
    throw ConfigError("--set: " + key + ": unknown key; expected one of " + forms);
  }
  d.raise_if_any();
  return changed;
}

}  // namespace

// ---------------------------------------------------------------------------
// --help and the README table

namespace {

struct DocRow {
  std::string key, def, allowed, linux_name, help;
};

template <class S, class T>
std::string range_text(const Knob<S, T>& k) {
  if constexpr (is_int<T>) {
    return std::to_string(k.min) + " to " + std::to_string(k.max);
  } else if constexpr (std::is_same_v<T, bool>) {
    return "true, false";
  } else if constexpr (std::is_same_v<T, AppKind>) {
    std::string s;
    for (auto a = static_cast<int>(k.min); a <= static_cast<int>(k.max); ++a)
      s += (s.empty() ? "" : ", ") + std::string(app_kind_name(static_cast<AppKind>(a)));
    return s;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return std::to_string(k.min) + " to " + std::to_string(k.max) + " characters";
  } else if constexpr (std::is_same_v<T, StringList>) {
    return std::to_string(k.min) + " to " + std::to_string(k.max) + " strings";
  } else {
    return std::to_string(k.min) + " to " + std::to_string(k.max) + " CIDRs";
  }
}

// A value as TOML source.
template <class T>
std::string toml_value(const T& v) {
  if constexpr (std::is_same_v<T, AppKind>) {
    return quoted(app_kind_name(v));
  } else if constexpr (std::is_same_v<T, std::string>) {
    return quoted(v);
  } else if constexpr (is_list<T>) {
    std::string s;
    for (const auto& x : v) {
      if constexpr (std::is_same_v<T, CidrList>) s += (s.empty() ? "" : ", ") + quoted(format_ipv4_cidr(x));
      else s += (s.empty() ? "" : ", ") + quoted(x);
    }
    return "[" + s + "]";
  } else {
    return format_value(v);
  }
}

template <class Sec>
void doc_rows(std::vector<DocRow>& rows) {
  const std::string prefix = std::string(Sec::name) + (Sec::many ? ".N." : ".");
  Sec::visit([&](const auto& k) {
    rows.push_back({std::string(prefix) + std::string(k.name), k.required ? "required" : toml_value(k.def),
                    range_text(k), std::string(k.linux_name), std::string(k.help)});
  });
}

std::vector<DocRow> all_doc_rows() {
  std::vector<DocRow> rows;
  doc_rows<TcpSection>(rows);
  doc_rows<EngineSection>(rows);
  doc_rows<ListenerSection>(rows);
  doc_rows<DpdkSection>(rows);
  doc_rows<PortSection>(rows);
  return rows;
}

// Word-wraps `text` to `width` columns, each line starting with `lead`.
std::string wrap(std::string_view text, std::string_view lead, size_t width) {
  std::string out, line(lead);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t sp = text.find(' ', pos);
    std::string_view word = text.substr(pos, sp == text.npos ? text.npos : sp - pos);
    if (line.size() > lead.size() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = lead;
    }
    if (line.size() > lead.size()) line += ' ';
    line += word;
    if (sp == text.npos) break;
    pos = sp + 1;
  }
  return out + line + "\n";
}

// The example values the generated file gives the knobs that have no default.
template <class S, class T>
T example_of(const Knob<S, T>& k) {
  if constexpr (std::is_same_v<T, CidrList>) {
    return {*parse_ipv4_cidr("198.18.0.2/24")};
  } else if constexpr (std::is_same_v<T, AppKind>) {
    return AppKind::http;
  } else if constexpr (is_int<T>) {
    return static_cast<T>(k.name == "port" ? 80 : k.min);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return k.name == "device" ? "net_tap0,iface=tcpterm0" : std::string(k.min, 'x');
  } else {
    return k.def;
  }
}

template <class Sec>
std::string example_section() {
  std::string out = "\n" + std::string(Sec::header) + "\n";
  Sec::visit([&](const auto& k) {
    std::string help(k.help);
    help += " (" + range_text(k);
    if (!k.linux_name.empty()) help += "; Linux: " + std::string(k.linux_name);
    help += ")";
    out += wrap(help, "# ", 79);
    out += std::string(k.name) + " = " + toml_value(k.required ? example_of(k) : k.def);
    out += k.required ? "  # required, no default\n" : "\n";
  });
  return out;
}

}  // namespace

std::string knobs_help() {
  std::string out =
      "Configuration knobs. A TOML file sets them by section: " + sections_allowed() + ".\n"
      "--set KEY=VALUE overrides one after the file is read: entries of [[...]] sections as\n"
      "listener.N.KEY, addresses comma-separated, eal_args space-separated.\n";
  std::string section;
  for (const auto& r : all_doc_rows()) {
    const std::string sec = r.key.substr(0, r.key.find('.'));
    if (sec != section) {
      section = sec;
      bool many = false;
      for (const auto& s : kSections)
        if (s.name == sec) many = s.many;
      out += many ? "\n[[" + sec + "]] (one table each)\n" : "\n[" + sec + "]\n";
    }
    std::string head = "  " + r.key + (r.def == "required" ? " (required)" : " = " + r.def);
    head += std::string(head.size() < 40 ? 40 - head.size() : 1, ' ') + r.allowed;
    if (!r.linux_name.empty()) head += "  (Linux: " + r.linux_name + ")";
    out += head + "\n" + wrap(r.help, "      ", 88);
  }
  return out;
}

namespace {

template <class Sec>
void entries_of(const Config& c, std::vector<std::pair<std::string, std::string>>& out) {
  // Keys are appended piecewise: g++ 12 -O3 warns falsely on string + string
  // here (-Wrestrict, GCC bug 105329).
  auto one = [&](const typename Sec::S& s, const std::string& prefix) {
    Sec::visit([&](const auto& k) {
      std::string key = prefix;
      key.append(k.name);
      out.emplace_back(std::move(key), format_value(s.*k.member));
    });
  };
  std::string prefix(Sec::name);
  prefix += '.';
  if constexpr (Sec::many) {
    const auto& v = Sec::in(c);
    for (size_t i = 0; i < v.size(); ++i) {
      std::string p = prefix;
      p.append(std::to_string(i));
      p += '.';
      one(v[i], p);
    }
  } else {
    one(Sec::in(c), prefix);
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> config_entries(const Config& c) {
  std::vector<std::pair<std::string, std::string>> out;
  entries_of<TcpSection>(c, out);
  entries_of<EngineSection>(c, out);
  entries_of<ListenerSection>(c, out);
  entries_of<DpdkSection>(c, out);
  entries_of<PortSection>(c, out);
  return out;
}

std::string knobs_example_toml() {
  return "# tcpterm configuration with every knob at its default. Generated by\n"
         "# `build/config/tcpterm-knobs --toml` from config/knobs.h (a test keeps the two\n"
         "# equal): edit the table there, not this file. Knobs without a default carry\n"
         "# an example value. Any knob can be overridden at start with --set KEY=VALUE,\n"
         "# e.g. --set tcp.fin_timeout=5 or --set listener.0.accept_rate=100.\n" +
         example_section<TcpSection>() + example_section<EngineSection>() +
         example_section<ListenerSection>() + example_section<DpdkSection>() + example_section<PortSection>();
}

std::string knobs_markdown_table() {
  auto md = [](std::string_view s) {
    std::string o;
    for (char c : s) {
      if (c == '*' || c == '|') o += '\\';
      o += c;
    }
    return o;
  };
  std::string out =
      "| Key | Default | Allowed | Linux counterpart | Meaning |\n"
      "|---|---|---|---|---|\n";
  for (const auto& r : all_doc_rows())
    out += "| `" + r.key + "` | " + (r.def == "required" ? r.def : "`" + r.def + "`") + " | " +
           r.allowed + " | " + (r.linux_name.empty() ? std::string("none") : "`" + r.linux_name + "`") + " | " +
           md(r.help) + " |\n";
  return out;
}

}  // namespace tcpterm
