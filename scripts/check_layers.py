#!/usr/bin/env python3
"""Checks that every #include "…" of the product's sources points downward.

The layers (docs/architecture.md), each depending only on those before it:

  base        normalize/*            the canonical model, quantities, time, numbers, text
  base        normalize/config/*     configuration tables and secret files
  decoders    normalize/<vendor>/*   pure decoders: the base and their own folder
  storage     storage/*              the base
  connectors  connectors/*           what every connector is: base, storage
  transports  connectors/mqtt|xmpp/* the above and their own folder
  vendors     connectors/<vendor>/*  the above, any transport, their own decoders
  daemon      daemon/**              everything

A vendor may also use the canonical decoder (normalize/canonical/), the
project's own JSON format (the spool reads it from files).

Usage: check_layers.py [SOURCE_DIR]. Prints each violation as
`file:line: layer X may not include Y` and exits 1 when there is one.
"""
import pathlib
import re
import sys

TRANSPORTS = {"mqtt", "xmpp"}
SHARED_DECODERS = {"canonical"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer(path: str):
    """(layer name, vendor or transport) of a source path, or None outside the product."""
    parts = path.split("/")
    top = parts[0]
    if top == "normalize":
        if len(parts) == 2:
            return ("base", None)
        if parts[1] == "config":
            return ("base_config", None)
        return ("decoder", parts[1])
    if top == "storage":
        return ("storage", None)
    if top == "connectors":
        if len(parts) == 2:
            return ("connector_core", None)
        if parts[1] in TRANSPORTS:
            return ("transport", parts[1])
        return ("vendor", parts[1])
    if top == "daemon":
        return ("daemon", None)
    return None


def allowed(src, dst) -> bool:
    s, sv = src
    d, dv = dst
    if s == "daemon":
        return True
    below = {
        "base": {"base"},
        "base_config": {"base", "base_config"},
        "decoder": {"base"},
        "storage": {"base", "storage"},
        "connector_core": {"base", "base_config", "storage", "connector_core"},
        "transport": {"base", "base_config", "storage", "connector_core"},
        "vendor": {"base", "base_config", "storage", "connector_core", "transport"},
    }[s]
    if d in below:
        return True
    if s == d and sv == dv:  # its own folder
        return True
    if s == "vendor" and d == "decoder" and (dv == sv or dv in SHARED_DECODERS):
        return True
    return False


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems = []
    checked = 0
    for top in ("normalize", "storage", "connectors", "daemon"):
        for f in sorted((root / top).rglob("*")):
            if f.suffix not in (".h", ".cpp"):
                continue
            rel = f.relative_to(root).as_posix()
            src = layer(rel)
            checked += 1
            for n, line in enumerate(f.read_text().splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = m.group(1)
                if target.startswith("generated/"):
                    # The build's own generated headers (the version) are the daemon's.
                    if src[0] != "daemon":
                        problems.append(f"{rel}:{n}: {src[0]} may not include generated {target}")
                    continue
                dst = layer(target)
                if dst is None:
                    problems.append(f"{rel}:{n}: includes {target}, outside the product's layers")
                elif not allowed(src, dst):
                    what = f"{src[0]} ({src[1]})" if src[1] else src[0]
                    problems.append(f"{rel}:{n}: layer {what} may not include {target}")
    for p in problems:
        print(p)
    print(f"check_layers: {checked} files, {len(problems)} violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
