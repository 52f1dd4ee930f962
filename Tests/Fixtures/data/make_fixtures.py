"""Fixtures for graft's data tests: tiny images for each decoder case, Pillow's resize results,
a small image folder with a corrupt file, NumPy arrays and CSV files (good and bad).

Run from the repository root with Pillow and NumPy installed:
    Benchmarks/.venv/bin/python Tests/Fixtures/data/make_fixtures.py
It rewrites Tests/Fixtures/data/. Every input comes from a seeded NumPy generator.
"""
import io
import json
import os
import shutil

import numpy as np
import PIL
from PIL import Image, ImageOps

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(1129)
expected = {"pillow": PIL.__version__, "numpy": np.__version__, "images": {}, "resize": {}}


def planar(array):
    """HWC or HW uint8/uint16 array → CHW floats in [0, 1], flattened."""
    a = np.asarray(array)
    scale = 65535.0 if a.dtype == np.uint16 else 255.0
    if a.ndim == 2:
        a = a[:, :, None]
    return (a.transpose(2, 0, 1).astype(np.float64) / scale).reshape(-1).tolist(), a.shape[2], a.shape[0], a.shape[1]


def record(name, pixels_hwc, tolerance=0.0):
    pixels, c, h, w = planar(pixels_hwc)
    expected["images"][name] = {"channels": c, "height": h, "width": w, "pixels": pixels, "tolerance": tolerance}


import struct, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
def write_png16(path, samples, colour_type):
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit RGB, and its 16-bit gray API varies)."""
    height, width = samples.shape[:2]
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in samples)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0))
    open(path, "wb").write(data + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


os.makedirs(f"{here}/images", exist_ok=True)
# PNG: every colour type and depth graft must read. Expected values are the arrays themselves.
gray8 = rng.integers(0, 256, (3, 4), dtype=np.uint8)
Image.fromarray(gray8, "L").save(f"{here}/images/gray8.png"); record("gray8.png", gray8)
gray16 = rng.integers(0, 65536, (3, 4), dtype=np.uint16)
write_png16(f"{here}/images/gray16.png", gray16, 0)
with Image.open(f"{here}/images/gray16.png") as check:
    assert np.array_equal(np.asarray(check).astype(np.uint16), gray16), "Pillow reads the 16-bit samples differently"
record("gray16.png", gray16)
bits = rng.integers(0, 2, (5, 7), dtype=np.uint8) * 255
Image.fromarray(bits, "L").convert("1").save(f"{here}/images/gray1.png"); record("gray1.png", bits)
la = rng.integers(0, 256, (3, 4, 2), dtype=np.uint8)
Image.fromarray(la, "LA").save(f"{here}/images/gray_alpha.png"); record("gray_alpha.png", la)
rgb = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
Image.fromarray(rgb, "RGB").save(f"{here}/images/rgb8.png"); record("rgb8.png", rgb)
# Adam7-interlaced 8-bit RGB, written by hand (Pillow does not write interlaced PNGs).
interlaced = rng.integers(0, 256, (9, 10, 3), dtype=np.uint8)
passes = [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]
raw = b"".join(b"".join(b"\x00" + interlaced[r, c0::cs].tobytes() for r in range(r0, 9, rs))
               for (r0, c0, rs, cs) in passes if r0 < 9 and c0 < 10)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 10, 9, 8, 2, 0, 0, 1))
open(f"{here}/images/rgb8_interlaced.png", "wb").write(png + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
with Image.open(f"{here}/images/rgb8_interlaced.png") as check:
    assert check.info.get("interlace") == 1 and np.array_equal(np.asarray(check), interlaced)
record("rgb8_interlaced.png", interlaced)
rgba = rng.integers(0, 256, (4, 3, 4), dtype=np.uint8)
Image.fromarray(rgba, "RGBA").save(f"{here}/images/rgba8.png"); record("rgba8.png", rgba)
rgb16 = rng.integers(0, 65536, (2, 3, 3), dtype=np.uint16)
write_png16(f"{here}/images/rgb16.png", rgb16, 2); record("rgb16.png", rgb16)
palette_indices = rng.integers(0, 4, (3, 5), dtype=np.uint8)
palette = [255, 0, 0, 0, 255, 0, 0, 0, 255, 250, 250, 250]
p = Image.fromarray(palette_indices, "P"); p.putpalette(palette)
p.save(f"{here}/images/palette_trns.png", transparency=bytes([255, 128, 0, 255]))
with Image.open(f"{here}/images/palette_trns.png") as check:
    record("palette_trns.png", np.asarray(check.convert("RGBA")))

# JPEG: expected values are Pillow's own decode (both use libjpeg-turbo); ±2 levels allowed for IDCT differences.
photo = np.clip(np.add.outer(np.arange(16) * 12, np.arange(24) * 8)[:, :, None] + np.array([0, 40, 80]), 0, 255).astype(np.uint8)
photo = (photo + rng.integers(0, 20, photo.shape)).clip(0, 255).astype(np.uint8)
jpegs = {
    "baseline_rgb.jpg": dict(image=Image.fromarray(photo, "RGB"), quality=90),
    "baseline_gray.jpg": dict(image=Image.fromarray(photo[:, :, 1], "L"), quality=90),
    "progressive_rgb.jpg": dict(image=Image.fromarray(photo, "RGB"), quality=85, progressive=True),
}
for name, options in jpegs.items():
    image = options.pop("image")
    image.save(f"{here}/images/{name}", **options)
    with Image.open(f"{here}/images/{name}") as decoded:
        record(name, np.asarray(decoded), tolerance=2 / 255)
exif = Image.Exif(); exif[0x0112] = 6  # rotate 90° clockwise to display
Image.fromarray(photo, "RGB").save(f"{here}/images/exif_orientation6.jpg", quality=90, exif=exif)
with Image.open(f"{here}/images/exif_orientation6.jpg") as decoded:
    record("exif_orientation6.jpg", np.asarray(ImageOps.exif_transpose(decoded)), tolerance=2 / 255)
cmyk = np.zeros((8, 8, 4), dtype=np.uint8); cmyk[:, :, :3] = rng.integers(0, 256, (8, 8, 3))  # K = 0
Image.fromarray(cmyk, "CMYK").save(f"{here}/images/cmyk.jpg", quality=95)
with Image.open(f"{here}/images/cmyk.jpg") as decoded:
    record("cmyk.jpg", 255 - np.asarray(decoded)[:, :, :3], tolerance=3 / 255)

# Broken files: each must be refused with a message, never crash.
good_png = open(f"{here}/images/rgb8.png", "rb").read()
good_jpg = open(f"{here}/images/baseline_rgb.jpg", "rb").read()
os.makedirs(f"{here}/broken", exist_ok=True)
open(f"{here}/broken/truncated.png", "wb").write(good_png[: len(good_png) // 2])
open(f"{here}/broken/truncated.jpg", "wb").write(good_jpg[: len(good_jpg) // 2])
open(f"{here}/broken/text.jpg", "wb").write(b"this is not a picture\n")
bad_crc = bytearray(good_png); bad_crc[30] ^= 0xFF
open(f"{here}/broken/bad_crc.png", "wb").write(bytes(bad_crc))
# A header claiming 20000 × 20000 pixels (400 megapixels) must be refused before decoding.
huge = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
open(f"{here}/broken/huge.png", "wb").write(huge)

# Resize references: Pillow's BILINEAR on float ("F") planes, shrinking (antialiased) and enlarging.
source = rng.random((13, 17, 3)).astype(np.float32)
np.save(f"{here}/resize_source.npy", source.transpose(2, 0, 1).copy())
for (w, h) in [(7, 5), (30, 20), (17, 6), (9, 13)]:
    planes = [np.asarray(Image.fromarray(source[:, :, c], "F").resize((w, h), Image.BILINEAR)) for c in range(3)]
    expected["resize"][f"{w}x{h}"] = {"width": w, "height": h, "pixels": np.stack(planes).reshape(-1).astype(float).tolist()}

# The evaluation recipe on the same source: shorter side to 10, then torchvision's centre crop of 8
# (top = int(round((h - 8) / 2.0)), Python's round-half-to-even).
h, w = 10, int(round(17 * 10 / 13))
planes = [np.asarray(Image.fromarray(source[:, :, c], "F").resize((w, h), Image.BILINEAR)) for c in range(3)]
top, left = int(round((h - 8) / 2.0)), int(round((w - 8) / 2.0))
cropped = np.stack(planes)[:, top:top + 8, left:left + 8]
expected["resize"]["shorter10_crop8"] = {"width": 8, "height": 8, "pixels": cropped.reshape(-1).astype(float).tolist()}

# An image folder: two classes of mixed PNG/JPEG, a corrupt file, and a non-image file to ignore.
folder = f"{here}/folder"
shutil.rmtree(folder, ignore_errors=True)
for label, name in enumerate(["cat", "dog"]):
    os.makedirs(f"{folder}/{name}")
    for i in range(3 + label):
        picture = rng.integers(0, 256, (20 + 4 * i, 30, 3), dtype=np.uint8)
        Image.fromarray(picture).save(f"{folder}/{name}/{i:03d}." + ("png" if i % 2 == 0 else "jpg"))
open(f"{folder}/cat/003.jpg", "wb").write(b"not really a jpeg")
open(f"{folder}/dog/notes.txt", "w").write("ignored\n")
split_folder = f"{here}/split_folder"
shutil.rmtree(split_folder, ignore_errors=True)
for part, count in [("train", 4), ("test", 2)]:
    for name in ["a", "b"]:
        os.makedirs(f"{split_folder}/{part}/{name}")
        for i in range(count):
            Image.fromarray(rng.integers(0, 256, (12, 12), dtype=np.uint8), "L").save(f"{split_folder}/{part}/{name}/{i}.png")
shutil.rmtree(f"{here}/empty_class", ignore_errors=True)  # git keeps no empty folders: the test makes its own
rng.integers(0, 256, (8, 8), dtype=np.uint8)  # keeps the generator's sequence as before

# Arrays and tables.
arrays = f"{here}/arrays"
shutil.rmtree(arrays, ignore_errors=True); os.makedirs(arrays)
np.save(f"{arrays}/float32.npy", np.arange(12, dtype=np.float32).reshape(3, 4) / 4)
np.save(f"{arrays}/float64.npy", np.array([[0.5, -1.25], [3.0, 1e-3]], dtype=np.float64))
np.save(f"{arrays}/uint8.npy", np.array([0, 7, 255], dtype=np.uint8))
np.save(f"{arrays}/int64.npy", np.array([2, 0, 1], dtype=np.int64))
np.save(f"{arrays}/bigendian.npy", np.array([1.5, -2.0], dtype=">f4"))
np.save(f"{arrays}/fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
np.save(f"{arrays}/object.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
full = open(f"{arrays}/float32.npy", "rb").read()
open(f"{arrays}/truncated.npy", "wb").write(full[:-5])
open(f"{arrays}/tabular.csv", "w").write("width,height,kind\n1.5,2,cat\n0.5,1,dog\n2.5,3.25,cat\n")
open(f"{arrays}/ragged.csv", "w").write("1,2,0\n3,4,1\n5,1\n")
open(f"{arrays}/not_number.csv", "w").write("1,2,0\n3,x,1\n")

with open(f"{here}/expected.json", "w") as f:
    json.dump(expected, f, separators=(",", ":"))
print("wrote", len(expected["images"]), "images,", len(expected["resize"]), "resize cases")
