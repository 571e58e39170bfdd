# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pixel-level tests of the convert_images pipeline, on images generated here."""

from __future__ import annotations

import hashlib
import io
import random
import struct

import pytest

from ansible_collections.storeops.shop.plugins.module_utils import _image_convert as pipeline

from PIL import Image, ImageChops, ImageDraw


def convert_file(path, spec):
    """(sha256, bytes, size) of one converted file, as the job converts it."""
    with pipeline.Source(path) as source:
        data, size = pipeline.convert_source(source, spec)
        return source.sha256, data, size


WHITE = (255, 255, 255)
MAGENTA = (255, 0, 255)


def mean_abs_diff(a, b):
    hist = ImageChops.difference(a, b).histogram()
    return sum((i % 256) * n for i, n in enumerate(hist)) / float(a.size[0] * a.size[1] * len(a.getbands()))


def max_diff(a, b):
    return max(high for low, high in ImageChops.difference(a, b).getextrema())


def close(pixel, expected, tolerance=6):
    return all(abs(p - e) <= tolerance for p, e in zip(pixel, expected))


def photo(size, seed=1):
    """Photo-like RGB content: smooth fields, texture, per-pixel grain and sharp shapes."""
    rnd = random.Random(seed)
    random.seed(seed)
    width, height = size
    channels = []
    for dummy in range(3):
        big = Image.effect_noise((max(1, width // 32), max(1, height // 32)), 60).resize(size, Image.Resampling.BICUBIC)
        fine = Image.effect_noise(size, 10)
        channels.append(ImageChops.add(big, fine, 1.0, -128))
    img = Image.merge('RGB', channels)
    draw = ImageDraw.Draw(img)
    for dummy in range(12):
        x0, y0 = rnd.randrange(width), rnd.randrange(height)
        draw.ellipse(
            (x0, y0, x0 + rnd.randrange(5, width // 3), y0 + rnd.randrange(5, height // 3)),
            fill=tuple(rnd.randrange(256) for dummy in range(3)),
        )
    return img


def cutout(img, hidden=MAGENTA, seed=2):
    """RGBA: ``img`` inside a feathered blob, ``hidden`` colour under the transparent part."""
    rnd = random.Random(seed)
    width, height = img.size
    mask = Image.new('L', img.size, 0)
    ImageDraw.Draw(mask).ellipse(
        (width // 8 + rnd.randrange(5), height // 8, width - width // 6, height - height // 7), fill=255
    )
    mask = mask.resize((width // 4, height // 4), Image.Resampling.BILINEAR).resize(img.size, Image.Resampling.BILINEAR)
    rgb = Image.composite(img, Image.new('RGB', img.size, hidden), mask.point(lambda v: 255 if v else 0))
    rgba = rgb.convert('RGBA')
    rgba.putalpha(mask)
    return rgba


def save(img, path, fmt=None, **kwargs):
    img.save(str(path), fmt, **kwargs)
    return str(path)


def convert(path, **options):
    """Run the whole pipeline on a file; return the decoded output (PNG, lossless)."""
    options.setdefault('output_format', 'png')
    dummy_sha, data, size = convert_file(str(path), pipeline.Spec(**options))
    out = Image.open(io.BytesIO(data))
    out.load()
    assert out.size == tuple(size)
    return out


def render(path, **options):
    spec = pipeline.Spec(**options)
    with pipeline.Source(str(path)) as source:
        dummy_size, names = source.plan(spec)
        return pipeline.render(source.for_render(), spec, names)


# --- transparency ----------------------------------------------------------------------


def test_transparent_pixels_show_background_not_hidden_colour(tmp_path):
    img = Image.new('RGBA', (300, 200), MAGENTA + (0,))
    img.paste((200, 30, 30, 255), (100, 50, 200, 150))
    out = convert(save(img, tmp_path / 'a.tif'), size=[60, 40])
    assert out.mode == 'RGB'
    assert out.getpixel((2, 2)) == WHITE
    assert out.getpixel((30, 20)) == (200, 30, 30)
    colours = {colour for dummy, colour in out.getcolors(4096)}
    assert not any(close(colour, MAGENTA, 60) for colour in colours)


def test_half_transparent_is_blended_with_background(tmp_path):
    img = Image.new('RGBA', (50, 50), (255, 0, 0, 128))
    assert close(convert(save(img, tmp_path / 'a.png'), size=[10, 10]).getpixel((5, 5)), (255, 127, 127), 1)
    out = convert(save(img, tmp_path / 'b.png'), size=[10, 10], background='#000000')
    assert close(out.getpixel((5, 5)), (128, 0, 0), 1)


@pytest.mark.parametrize('size,factor', [((600, 400), 5), ((333, 250), 3), ((97, 61), (2, 3))])
def test_reduce_flatten_matches_flatten_then_reduce(size, factor):
    factor = factor if isinstance(factor, tuple) else (factor, factor)
    img = cutout(photo(size, seed=size[0]))
    # plus scattered partly transparent pixels everywhere
    alpha = img.getchannel('A')
    noise = Image.effect_noise(size, 80).point(lambda v: 255 if v > 200 else 0)
    img.putalpha(
        ImageChops.lighter(ImageChops.multiply(alpha, noise.point(lambda v: 255 - v // 2)), Image.new('L', size, 0))
    )
    box = (0, 0) + size
    exact = pipeline.flatten(img, WHITE).reduce(factor)
    fast = pipeline.reduce_flatten(img, factor, box, WHITE)
    assert fast.size == exact.size
    assert max_diff(fast, exact) <= 1


def test_reduce_flatten_fallback_without_core_reduce(monkeypatch):
    img = cutout(photo((200, 100)))
    monkeypatch.setattr(pipeline, '_straight_reduce', lambda *args: None)
    assert (
        max_diff(pipeline.reduce_flatten(img, (4, 4), (0, 0, 200, 100), WHITE), pipeline.flatten(img, WHITE).reduce(4))
        == 0
    )


@pytest.mark.parametrize(
    'target,fit',
    [
        ((600, 400), 'exact'),
        ((640, 480), 'contain'),
        ((500, 500), 'cover'),
        ((700, 300), 'exact'),
        ((250, 250), 'contain'),
    ],
)
def test_quality_against_lanczos_of_flattened_photo(tmp_path, target, fit):
    img = cutout(photo((3000, 2000), seed=3))
    path = save(img, tmp_path / 'photo.tif')
    out = render(path, size=list(target), fit=fit)
    box, size = pipeline.geometry(img.size, target, fit, False)
    reference = pipeline.flatten(img, WHITE).resize(size, Image.Resampling.LANCZOS, box=box)
    assert out.size == size
    assert mean_abs_diff(out, reference) < 2


def test_supplier_case_is_exact_area_average(tmp_path):
    img = cutout(photo((3000, 2000), seed=4))
    out = render(save(img, tmp_path / 'photo.tif'), size=[600, 400])
    assert max_diff(out, pipeline.flatten(img, WHITE).reduce(5)) <= 1


# --- geometry and rotation ----------------------------------------------------------------


@pytest.mark.parametrize(
    'fit,target,expected',
    [
        ('contain', (600, 400), (600, 400)),
        ('contain', (400, 400), (400, 267)),
        ('cover', (400, 400), (400, 400)),
        ('exact', (100, 300), (100, 300)),
    ],
)
def test_output_sizes(tmp_path, fit, target, expected):
    path = save(Image.new('RGB', (3000, 2000), (10, 20, 30)), tmp_path / 'a.tif')
    assert convert(path, size=list(target), fit=fit).size == expected


def test_cover_crops_evenly_and_contain_keeps_everything(tmp_path):
    img = Image.new('RGB', (300, 100), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 100, 100))
    img.paste((0, 255, 0), (100, 0, 200, 100))
    path = save(img, tmp_path / 'a.png')
    cover = convert(path, size=[100, 100], fit='cover')
    assert close(cover.getpixel((50, 50)), (0, 255, 0), 2)
    assert close(cover.getpixel((1, 50)), (0, 255, 0), 2)
    contain = convert(path, size=[100, 100], fit='contain')
    assert contain.size == (100, 33)
    assert close(contain.getpixel((5, 16)), (255, 0, 0), 2) and close(contain.getpixel((95, 16)), (0, 0, 255), 2)


def marker_image(size=(40, 20)):
    """White image with a red block in the top-left corner."""
    img = Image.new('RGB', size, WHITE)
    side = max(6, min(size) // 4)
    img.paste((255, 0, 0), (0, 0, side, side))
    return img


def red_corner(img):
    width, height = img.size
    corners = {
        'top-left': (2, 2),
        'top-right': (width - 3, 2),
        'bottom-left': (2, height - 3),
        'bottom-right': (width - 3, height - 3),
    }
    found = [name for name, xy in corners.items() if close(img.getpixel(xy), (255, 0, 0), 10)]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    'degrees,size,corner',
    [
        (0, (40, 20), 'top-left'),
        (90, (20, 40), 'top-right'),
        (180, (40, 20), 'bottom-right'),
        (270, (20, 40), 'bottom-left'),
    ],
)
def test_rotate_is_clockwise(tmp_path, degrees, size, corner):
    out = convert(save(marker_image(), tmp_path / 'm.png'), rotate=degrees)
    assert out.size == size
    assert red_corner(out) == corner


@pytest.mark.parametrize('glyph', [(0, 0, 0), (30, 30, 30), (200, 40, 40)])
def test_grey_fast_path_gives_the_same_pixels(glyph):
    img = Image.new('RGBA', (192, 192), (0, 0, 0, 0))
    big = Image.new('L', (768, 768), 0)
    ImageDraw.Draw(big).ellipse((100, 80, 650, 700), fill=255)
    img.paste(glyph + (255,), (0, 0), big.resize((192, 192), Image.Resampling.LANCZOS))  # anti-aliased edge
    fast = pipeline.resample(img, (0.0, 0.0, 192.0, 192.0), (128, 128), True, WHITE)
    slow = pipeline.resample(img, (0.0, 0.0, 192.0, 192.0), (128, 128), True, WHITE, allow_grey=False)
    assert fast.mode == ('L' if glyph[0] == glyph[2] else 'RGB') and slow.mode == 'RGB'
    assert max_diff(fast.convert('RGB'), slow) == 0
    assert pipeline.flatten_small(img, (250, 0, 0)).mode == 'RGB'  # coloured background: no grey path


def test_looks_grey_sample():
    img = Image.new('RGBA', (192, 192), (0, 0, 0, 0))
    img.paste((90, 90, 90, 255), (40, 40, 150, 150))
    assert pipeline._looks_grey(img)  # pylint: disable=protected-access
    img.putpixel((6, 6), (90, 91, 90, 255))  # a pixel the 16x16 sample takes (nearest: every 12th, from 6)
    assert not pipeline._looks_grey(img)  # pylint: disable=protected-access
    img.putpixel((6, 6), (90, 90, 90, 0))
    img.putpixel((7, 7), (255, 0, 0, 255))  # not sampled: the exact test in flatten_small finds it
    assert pipeline._looks_grey(img)  # pylint: disable=protected-access
    assert pipeline.flatten_small(img, WHITE).mode == 'RGB'


def test_icon_delivered_anticlockwise_comes_out_straight(tmp_path):
    upright = marker_image((192, 192))
    delivered = upright.rotate(90)  # Pillow: counter-clockwise, as the contractor's files
    out = convert(save(delivered, tmp_path / 'icon.tif'), size=[128, 128], rotate=90)
    assert out.size == (128, 128)
    assert red_corner(out) == 'top-left'


@pytest.mark.parametrize(
    'orientation,corner',
    [(1, 'top-left'), (3, 'bottom-right'), (6, 'top-right'), (8, 'bottom-left'), (2, 'top-right'), (5, 'top-left')],
)
@pytest.mark.parametrize('fmt', ['JPEG', 'PNG', 'TIFF', 'TIFF-LZW'])
def test_exif_orientation(tmp_path, orientation, corner, fmt):
    exif = Image.Exif()
    exif[0x0112] = orientation
    extra = {'JPEG': {'quality': 95}, 'TIFF-LZW': {'compression': 'tiff_lzw'}}.get(fmt, {})
    path = save(
        marker_image((48, 24)), tmp_path / ('o.' + fmt.lower()), fmt.split('-')[0], exif=exif.tobytes(), **extra
    )
    out = convert(path)
    assert out.size == ((24, 48) if orientation >= 5 else (48, 24))
    assert red_corner(out) == corner
    straight = convert(path, auto_orient=False)
    assert straight.size == (48, 24) and red_corner(straight) == 'top-left'
    with pipeline.Source(path) as source:  # check mode predicts the same sizes
        assert pipeline.probe_source(source, pipeline.Spec()) == out.size
        assert pipeline.probe_source(source, pipeline.Spec(auto_orient=False, rotate=90)) == (24, 48)


def test_exif_orientation_then_rotation_and_size_swap(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: needs 90 clockwise to be upright
    path = save(marker_image((300, 150)), tmp_path / 'o.jpg', 'JPEG', exif=exif.tobytes(), quality=95)
    out = convert(path, size=[100, 100], rotate=90)  # upright is 150x300; +90 clockwise -> 300x150 shape
    assert out.size == (100, 50)
    assert red_corner(out) == 'bottom-right'
    with pipeline.Source(path) as source:
        assert pipeline.probe_source(source, pipeline.Spec(size=[100, 100], rotate=90)) == (100, 50)


# --- colour modes -------------------------------------------------------------------------


def test_palette_with_transparency(tmp_path):
    img = Image.new('P', (40, 40), 0)
    img.putpalette(list(MAGENTA) + [0, 0, 255] + [0] * (254 * 3))
    img.paste(1, (10, 10, 30, 30))
    for name, fmt in (('p.png', 'PNG'), ('p.gif', 'GIF')):
        path = save(img, tmp_path / name, fmt, transparency=0)
        out = convert(path, size=[20, 20])
        assert out.getpixel((1, 1)) == WHITE
        assert close(out.getpixel((10, 10)), (0, 0, 255), 2)


def test_palette_without_transparency_and_la_and_1bit(tmp_path):
    img = Image.new('P', (20, 20), 1)
    img.putpalette([0, 0, 0, 10, 200, 30] + [0] * (254 * 3))
    assert convert(save(img, tmp_path / 'p.png')).getpixel((5, 5)) == (10, 200, 30)
    la = Image.new('LA', (20, 20), (0, 0))
    la.paste((100, 255), (0, 0, 10, 20))
    out = convert(save(la, tmp_path / 'la.png'))
    assert out.getpixel((2, 2)) == (100, 100, 100) and out.getpixel((15, 2)) == WHITE
    bits = Image.new('1', (16, 16), 1)
    assert convert(save(bits, tmp_path / 'b.png')).getpixel((3, 3)) == WHITE


def test_greyscale_gives_rgb(tmp_path):
    out = convert(save(Image.new('L', (30, 30), 77), tmp_path / 'g.tif'), size=[10, 10], output_format='jpeg')
    assert out.mode == 'RGB' and close(out.getpixel((5, 5)), (77, 77, 77), 2)


@pytest.mark.parametrize('fmt', ['png', 'tif'])
def test_16bit_greyscale_is_scaled_not_clipped(tmp_path, fmt):
    img = Image.new('I;16', (64, 32), 0)
    img.paste(65535, (0, 0, 32, 32))
    img.paste(32896, (32, 0, 48, 32))  # 128 * 257
    img.paste(257 * 10, (48, 0, 64, 32))
    out = convert(save(img, tmp_path / ('g16.' + fmt)))
    assert out.getpixel((5, 5)) == WHITE
    assert close(out.getpixel((40, 5)), (128, 128, 128), 1)
    assert close(out.getpixel((56, 5)), (10, 10, 10), 1)


def test_32bit_float_greyscale(tmp_path):
    img = Image.new('F', (20, 20), 0.5)
    assert close(convert(save(img, tmp_path / 'f.tif')).getpixel((5, 5)), (128, 128, 128), 1)


@pytest.mark.parametrize('fmt', ['TIFF', 'JPEG'])
def test_cmyk(tmp_path, fmt):
    img = Image.new('CMYK', (80, 40), (0, 255, 255, 0))  # red
    img.paste((255, 0, 255, 0), (40, 0, 80, 40))  # green
    out = convert(
        save(img, tmp_path / ('c.' + fmt.lower()), fmt, **({'quality': 95} if fmt == 'JPEG' else {})), size=[40, 20]
    )
    assert close(out.getpixel((5, 10)), (255, 0, 0), 8)
    assert close(out.getpixel((35, 10)), (0, 255, 0), 8)


def icc_rgb_profile(colorants, gamma=2.2, description='test RGB'):
    """A minimal ICC v2 RGB matrix/TRC display profile (D50 PCS)."""

    def s15(v):
        return struct.pack('>i', int(round(v * 65536)))

    def xyz(v):
        return b'XYZ ' + b'\0' * 4 + b''.join(s15(c) for c in v)

    desc = description.encode('ascii') + b'\0'
    tags = [
        (b'desc', b'desc' + b'\0' * 4 + struct.pack('>I', len(desc)) + desc + b'\0' * 8 + b'\0' * 3 + b'\0' * 67),
        (b'wtpt', xyz((0.9642, 1.0, 0.8249))),
        (b'rXYZ', xyz(colorants[0])),
        (b'gXYZ', xyz(colorants[1])),
        (b'bXYZ', xyz(colorants[2])),
        (b'cprt', b'text' + b'\0' * 4 + b'none\0'),
    ]
    curve = b'curv' + b'\0' * 4 + struct.pack('>IH', 1, int(round(gamma * 256))) + b'\0\0'
    tags += [(b'rTRC', curve), (b'gTRC', curve), (b'bTRC', curve)]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b'', b''
    for signature, body in tags:
        body += b'\0' * (-len(body) % 4)
        table += signature + struct.pack('>II', offset + len(data), len(body))
        data += body
    total = offset + len(data)
    header = (
        struct.pack('>I', total)
        + b'none'
        + b'\x02\x10\x00\x00'
        + b'mntrRGB XYZ '
        + b'\0' * 12
        + b'acsp'
        + b'\0' * 4
        + b'\0' * 4
        + b'\0' * 8
        + b'\0' * 8
        + b'\0' * 4
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b'\0' * 4
        + b'\0' * 16
        + b'\0' * 28
    )
    assert len(header) == 128
    return header + struct.pack('>I', len(tags)) + table + data


SRGB_COLORANTS = ((0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141))


def test_icc_profile_is_converted_to_srgb(tmp_path):
    from PIL import ImageCms  # noqa: F401 (Pillow on this machine has littlecms)

    swapped = icc_rgb_profile((SRGB_COLORANTS[1], SRGB_COLORANTS[0], SRGB_COLORANTS[2]))  # "red" is sRGB green
    img = Image.new('RGB', (40, 40), (255, 0, 0))
    out = convert(save(img, tmp_path / 'p.png', icc_profile=swapped), size=[20, 20])
    assert close(out.getpixel((5, 5)), (0, 255, 0), 25)
    assert 'icc_profile' not in out.info
    # transparent pixels still end up exactly on the (sRGB) background
    rgba = Image.new('RGBA', (40, 40), (255, 0, 0, 0))
    rgba.paste((255, 0, 0, 255), (0, 0, 20, 40))
    out = convert(save(rgba, tmp_path / 'q.png', icc_profile=swapped), size=[20, 20], background='#3366cc')
    assert close(out.getpixel((15, 10)), (0x33, 0x66, 0xCC), 3)
    assert close(out.getpixel((3, 10)), (0, 255, 0), 25)


def test_srgb_profile_is_left_alone(tmp_path):
    from PIL import ImageCms as cms

    srgb = cms.ImageCmsProfile(cms.createProfile('sRGB')).tobytes()
    img = Image.new('RGB', (20, 20), (12, 34, 56))
    assert convert(save(img, tmp_path / 's.png', icc_profile=srgb)).getpixel((5, 5)) == (12, 34, 56)


def test_jpeg_draft_keeps_quality(tmp_path):
    img = photo((1600, 1200), seed=9)
    path = save(img, tmp_path / 'big.jpg', 'JPEG', quality=95)
    out = render(path, size=[200, 150])
    reference = Image.open(path).convert('RGB').resize((200, 150), Image.Resampling.LANCZOS)
    assert out.size == (200, 150)
    assert mean_abs_diff(out, reference) < 2


# --- options and bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    'kwargs,message',
    [
        ({'size': [0, 10]}, 'size'),
        ({'size': [10]}, 'size'),
        ({'fit': 'fill'}, 'fit'),
        ({'rotate': 45}, 'rotate'),
        ({'output_format': 'gif'}, 'format'),
        ({'quality': 0}, 'quality'),
        ({'background': 'no-such-colour'}, 'background'),
        ({'background': '#ff000080'}, 'opaque'),
    ],
)
def test_spec_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pipeline.Spec(**kwargs)


def test_fingerprint_changes_with_pixel_options_only():
    base = pipeline.Spec(size=[600, 400])
    assert base.fingerprint() == pipeline.Spec(size=(600, 400), background='#ffffff').fingerprint()
    assert base.fingerprint() == pipeline.Spec.from_dict(base.as_dict()).fingerprint()
    for other in (
        {'quality': 80},
        {'rotate': 90},
        {'fit': 'cover'},
        {'background': 'black'},
        {'progressive': True},
        {'output_format': 'webp'},
        {'auto_orient': False},
        {'size': [601, 400]},
    ):
        assert pipeline.Spec(**dict({'size': [600, 400]}, **other)).fingerprint() != base.fingerprint()
    png = pipeline.Spec(output_format='png')
    assert (
        png.fingerprint() == pipeline.Spec(output_format='png', quality=10, progressive=True, fit='cover').fingerprint()
    )


@pytest.mark.filterwarnings('ignore::UserWarning')  # Pillow: "Corrupt EXIF data"
@pytest.mark.parametrize(
    'content,reason',
    [
        (b'', 'empty file'),
        (b'this is a text file, not an image\n', 'not an image'),
        (b'II*\x00' + b'\xff' * 64, 'not an image'),
    ],
)
def test_bad_files(tmp_path, content, reason):
    path = tmp_path / 'bad.tif'
    path.write_bytes(content)
    with pytest.raises(pipeline.ImageError, match=reason):
        convert_file(str(path), pipeline.Spec(size=[10, 10]))


@pytest.mark.parametrize('size', [(3000, 2000), (120, 80)])
def test_truncated_file(tmp_path, size):
    data = io.BytesIO()
    photo(size).convert('RGBA').save(data, 'TIFF')
    path = tmp_path / 'trunc.tif'
    path.write_bytes(data.getvalue()[: len(data.getvalue()) // 2])
    with pytest.raises(pipeline.ImageError, match='truncated'):
        convert_file(str(path), pipeline.Spec(size=[60, 40]))


def test_truncated_jpeg(tmp_path):
    data = io.BytesIO()
    photo((400, 300)).save(data, 'JPEG')
    path = tmp_path / 'trunc.jpg'
    path.write_bytes(data.getvalue()[: len(data.getvalue()) // 3])
    with pytest.raises(pipeline.ImageError, match='truncated'):
        convert_file(str(path), pipeline.Spec(size=[60, 40]))


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / 'secret.tif'
    save(Image.new('RGB', (4, 4)), path)
    real_open = open

    def fake_open(name, *args, **kwargs):
        if str(name) == str(path):
            raise PermissionError(13, 'Permission denied', str(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr('builtins.open', fake_open)
    with pytest.raises(pipeline.ImageError, match='permission denied'):
        pipeline.Source(str(path))


@pytest.mark.parametrize('fmt,magic', [('jpeg', b'\xff\xd8'), ('png', b'\x89PNG'), ('webp', b'RIFF')])
def test_formats_and_determinism(tmp_path, fmt, magic):
    path = save(cutout(photo((300, 200))), tmp_path / 'a.tif')
    spec = pipeline.Spec(size=[60, 40], output_format=fmt)
    first = convert_file(path, spec)
    assert first[1].startswith(magic)
    assert first == convert_file(path, spec)


def test_progressive_jpeg(tmp_path):
    path = save(photo((300, 200)), tmp_path / 'a.tif')
    dummy, data, dummy_size = convert_file(path, pipeline.Spec(size=[60, 40], progressive=True, quality=70))
    assert Image.open(io.BytesIO(data)).info.get('progressive')


def test_large_file_is_a_zero_copy_view(tmp_path):
    path = save(cutout(photo((1500, 1000))), tmp_path / 'big.tif')
    with pipeline.Source(path) as source:
        view = source.for_render()
        assert view.readonly and view.mode == 'RGBA'
        with Image.open(path) as direct:
            assert view.tobytes() == direct.tobytes()


@pytest.mark.parametrize('mode', ['L', 'RGB', 'RGBA'])
def test_plain_tiff_fast_path_matches_pillow(tmp_path, mode):
    img = cutout(photo((97, 61))).convert(mode)
    exif = Image.Exif()
    exif[0x0112] = 8
    icc = icc_rgb_profile(SRGB_COLORANTS, gamma=1.8)
    path = save(img, tmp_path / 'a.tif', 'TIFF', exif=exif.tobytes(), **({'icc_profile': icc} if mode != 'L' else {}))
    with pipeline.Source(path) as source:
        assert source._plain is not None  # pylint: disable=protected-access
        fast = source.for_render()
        assert source.plan(pipeline.Spec()) == ((97, 61), ('ROTATE_90',))
        assert source.plan(pipeline.Spec(auto_orient=False)) == ((97, 61), ())
        with open(path, 'rb') as handle, Image.open(io.BytesIO(handle.read())) as slow:
            # (from a file object: opened by name, Pillow 13 maps L/RGBA TIFFs and then drops
            # the orientation without applying it; from a file object it is applied)
            slow.load()
            if pipeline.decoder_orients('TIFF'):
                slow = slow.transpose(Image.Transpose.ROTATE_270)  # undo Pillow's own EXIF rotation
            assert fast.mode == slow.mode and fast.size == slow.size and fast.tobytes() == slow.tobytes()
            assert fast.info.get('icc_profile') == slow.info.get('icc_profile')


@pytest.mark.parametrize(
    'mode,kwargs',
    [
        ('RGB', {'compression': 'tiff_lzw'}),
        ('CMYK', {}),
        ('I;16', {}),
        ('P', {}),
        ('1', {}),
        ('LA', {}),
        ('RGBA', {'compression': 'tiff_deflate'}),
    ],
)
def test_plain_tiff_declines_other_layouts(tmp_path, mode, kwargs):
    path = save(Image.new(mode, (20, 10)), tmp_path / 'b.tif', 'TIFF', **kwargs)
    with open(path, 'rb') as handle:
        assert pipeline.plain_tiff(handle.read()) is None
    assert convert(path).size == (20, 10)  # Pillow's path converts them


@pytest.mark.parametrize(
    'data', [b'', b'II*\x00', b'II*\x00\xff\xff\xff\x7f', b'II*\x00\x08\x00\x00\x00\xff\xff', b'MM\x00*' + b'\x00' * 20]
)
def test_plain_tiff_rejects_garbage(data):
    assert pipeline.plain_tiff(data) is None


def test_file_shrinking_while_read_is_just_truncated(tmp_path, monkeypatch):
    path = save(cutout(photo((120, 80))), tmp_path / 'a.tif')
    real_fstat = pipeline.os.fstat

    class Bigger(object):
        def __init__(self, fd):
            self.st_size = real_fstat(fd).st_size + 4096

    monkeypatch.setattr(pipeline.os, 'fstat', Bigger)
    with pipeline.Source(path) as source:  # reads what is there, no error, no padding
        with open(path, 'rb') as handle:
            assert source.sha256 == hashlib.sha256(handle.read()).hexdigest()
        assert pipeline.convert_source(source, pipeline.Spec(size=[60, 40]))[1] == (60, 40)


@pytest.mark.parametrize('compression', [None, 'tiff_lzw'])
def test_mapped_and_read_sources_agree(tmp_path, compression):
    path = save(
        cutout(photo((1500, 1000))),
        tmp_path / 'big.tif',
        'TIFF',
        **({'compression': compression} if compression else {}),
    )
    spec = pipeline.Spec(size=[150, 100])
    results = []
    for map_large in (False, True):
        with pipeline.Source(path, map_large=map_large) as source:
            results.append((source.sha256,) + pipeline.convert_source(source, spec))
    assert results[0] == results[1]
