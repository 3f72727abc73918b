#!/usr/bin/env python3
"""Writes nuget/icon.png (128x128 RGBA): the package icon. Standard library only; rerun to regenerate."""
import math, os, struct, zlib

N = 128
px = [[(0, 0, 0, 0)] * N for _ in range(N)]

def blend(x, y, rgb, a):
    if 0 <= x < N and 0 <= y < N and a > 0:
        r0, g0, b0, a0 = px[y][x]
        a = min(1.0, a)
        out_a = a + a0 / 255 * (1 - a)
        mix = lambda c, c0: int(round((c * a + c0 * a0 / 255 * (1 - a)) / out_a)) if out_a else 0
        px[y][x] = (mix(rgb[0], r0), mix(rgb[1], g0), mix(rgb[2], b0), int(round(out_a * 255)))

# Rounded square background, ML.NET-ish purple.
R = 22
for y in range(N):
    for x in range(N):
        cx = min(max(x + 0.5, R), N - R); cy = min(max(y + 0.5, R), N - R)
        d = math.hypot(x + 0.5 - cx, y + 0.5 - cy)
        blend(x, y, (81, 43, 212), max(0.0, min(1.0, R - d)))

def disc(x0, y0, r, rgb):
    for y in range(int(y0 - r - 2), int(y0 + r + 2)):
        for x in range(int(x0 - r - 2), int(x0 + r + 2)):
            blend(x, y, rgb, r + 0.5 - math.hypot(x + 0.5 - x0, y + 0.5 - y0))

def line(x0, y0, x1, y1, w, rgb, alpha=0.8):
    for y in range(N):
        for x in range(N):
            px_, py_ = x + 0.5, y + 0.5
            dx, dy = x1 - x0, y1 - y0
            t = max(0.0, min(1.0, ((px_ - x0) * dx + (py_ - y0) * dy) / (dx * dx + dy * dy)))
            d = math.hypot(px_ - (x0 + t * dx), py_ - (y0 + t * dy))
            blend(x, y, rgb, alpha * max(0.0, min(1.0, w / 2 + 0.5 - d)))

# Two coherent clusters of token points, linked within each cluster.
clusters = [[(36, 44), (56, 32), (50, 58), (30, 68)], [(84, 76), (100, 92), (78, 98), (96, 64)]]
for pts in clusters:
    for i in range(len(pts)):
        for j in range(i + 1, len(pts)):
            line(*pts[i], *pts[j], 3, (255, 255, 255), 0.55)
for pts, color in zip(clusters, [(255, 214, 64), (64, 224, 208)]):
    for p in pts:
        disc(*p, 7, color)

raw = b"".join(b"\x00" + bytes(c for p in row for c in p) for row in px)
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "icon.png")
with open(path, "wb") as f:
    f.write(png)
print(f"{path}: {len(png)} bytes")
