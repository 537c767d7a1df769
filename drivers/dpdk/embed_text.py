#!/usr/bin/env python3
# Writes a C++ header holding a text file as a string constant, so that tcpterm
# carries its default configuration (config/tap.toml) inside the binary.
# Usage: embed_text.py INPUT OUTPUT NAME
import sys

src, out, name = sys.argv[1:4]
with open(src, encoding="utf-8") as f:
    text = f.read()
delim = "tcptermembed"
assert ")" + delim + '"' not in text
with open(out, "w", encoding="utf-8") as f:
    f.write("// Generated from %s by drivers/dpdk/embed_text.py; do not edit.\n" % src.split("/")[-1])
    f.write("#pragma once\n#include <string_view>\n")
    f.write("namespace tcpterm::dpdk {\n")
    f.write('inline constexpr std::string_view %s = R"%s(%s)%s";\n' % (name, delim, text, delim))
    f.write("}  // namespace tcpterm::dpdk\n")
