#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ppm2png.py IN.ppm OUT.png: converts the binary PPM (P6, maxval 255) that the guest's
`nova-guest-tests render` wrote into a PNG (8-bit RGB, no filtering), with nothing but the
standard library (zlib). Host side of `make run`."""
import struct
import sys
import zlib


def read_ppm(path):
    data = open(path, "rb").read()
    fields, pos = [], 0
    # Header: magic, width, height, maxval, separated by whitespace (comments allowed).
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1  # the single whitespace byte before the pixels
    magic, w, h, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P6" or maxval != 255:
        sys.exit(f"{path}: not a P6 PPM with maxval 255")
    pixels = data[pos:pos + 3 * w * h]
    if len(pixels) != 3 * w * h:
        sys.exit(f"{path}: {len(pixels)} pixel bytes, want {3 * w * h}")
    return w, h, pixels


def chunk(kind, body):
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def write_png(path, w, h, rgb):
    rows = b"".join(b"\x00" + rgb[y * 3 * w:(y + 1) * 3 * w] for y in range(h))
    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows, 9))
           + chunk(b"IEND", b""))
    open(path, "wb").write(png)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: ppm2png.py IN.ppm OUT.png")
    width, height, px = read_ppm(sys.argv[1])
    write_png(sys.argv[2], width, height, px)
    print(f"wrote {sys.argv[2]} ({width}x{height}) from {sys.argv[1]}")
