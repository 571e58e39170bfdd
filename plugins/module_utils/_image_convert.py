# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pixel pipeline of ``storeops.shop.convert_images``: one image in, encoded bytes out.

Private to the collection: it can change at any time.

Order of operations, chosen so that the expensive full-resolution work is one pass:

1. read the file once (:class:`Source`): SHA-256 for the manifest, and for an uncompressed
   single-strip TIFF (what Pillow writes, what the course's images are) the pixels are used
   in place without decoding (:func:`plain_tiff`); anything else is opened by Pillow (for
   JPEG, ``draft()`` lets libjpeg decode at 1/2, 1/4 or 1/8 scale while staying at least
   twice the output size);
2. normalise the mode to L, RGB, RGBA or CMYK (palette + transparency, LA, 1-bit,
   16-bit and float greyscale are mapped here);
3. shrink by an integer factor with ``reduce()`` (a box filter: exact area averaging) and,
   for images with alpha, flatten onto the background *while* reducing (see
   :func:`reduce_flatten`), then one BICUBIC step for the non-integer remainder (< 2:1);
4. on the small image: EXIF orientation + the requested clockwise rotation (lossless
   transposes), ICC profile -> sRGB, final RGB;
5. encode.

Transparency is always composited onto ``background`` with the alpha weights, the
same result as flattening at full size and then resizing (within half a grey level).
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import mmap
import os
import struct
import traceback

try:
    from PIL import Image, ImageChops, ImageColor, UnidentifiedImageError
except ImportError:
    HAS_PIL = False
    PIL_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_PIL = True
    PIL_IMPORT_ERROR = None

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without littlecms: images keep their numbers, profiles are ignored
    ImageCms = None

# Bump when a change in this file changes the pixels produced for the same options: the
# fingerprint changes with it and every output is converted again on the next run.
PIPELINE_VERSION = 1

FORMATS = {
    # format option -> (Pillow format name, default suffix)
    'jpeg': ('JPEG', '.jpeg'),
    'png': ('PNG', '.png'),
    'webp': ('WEBP', '.webp'),
}
FITS = ('exact', 'contain', 'cover')
ROTATIONS = (0, 90, 180, 270)

# Output pixels of a tile when fixing partly transparent blocks (see reduce_flatten);
# must stay <= 22 so that one marked pixel survives the rounding of reduce().
_TILE = 16
# The step after reduce() is under 2:1: BICUBIC stays within about 1 grey level of LANCZOS
# there (measured on photo-like content) at two thirds of the cost, which matters for icons.
_FILTER_SUPPORT = 2.0
_SRGB_NAMES = ('srgb',)


def warm_up():
    """Import Pillow's common file format plugins now, so forked workers inherit them.

    Otherwise every worker pays for ``Image.init()`` (tens of milliseconds) on its first TIFF.
    """
    Image.preinit()
    for name in ('TiffImagePlugin', 'WebPImagePlugin'):
        try:
            __import__('PIL.' + name)
        except ImportError:
            pass


class ImageError(Exception):
    """A problem with one image file: reported per file, the other files go on."""


class SpecError(ValueError):
    """An option that cannot be used; ``field`` names it."""

    def __init__(self, field, message):
        super(SpecError, self).__init__(message)
        self.field = field


def allow_pixels(count):
    """Let Pillow open images of up to ``count`` pixels (our own limit is checked before decoding)."""
    if Image.MAX_IMAGE_PIXELS is not None and count > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = count


def _transpose(name):
    return getattr(Image.Transpose, name)


# EXIF orientation tag value -> transposes that make the image upright (as ImageOps.exif_transpose).
_EXIF_TRANSPOSE = {
    2: ('FLIP_LEFT_RIGHT',),
    3: ('ROTATE_180',),
    4: ('FLIP_TOP_BOTTOM',),
    5: ('TRANSPOSE',),
    6: ('ROTATE_270',),
    7: ('TRANSVERSE',),
    8: ('ROTATE_90',),
}
# Degrees *clockwise* -> Pillow transpose. Pillow's ROTATE_* and rotate() turn counter-clockwise.
_CLOCKWISE = {90: ('ROTATE_270',), 180: ('ROTATE_180',), 270: ('ROTATE_90',)}
_SWAPS_AXES = frozenset(('ROTATE_90', 'ROTATE_270', 'TRANSPOSE', 'TRANSVERSE'))


class Spec:
    """Validated conversion options (everything that decides the output pixels and bytes)."""

    def __init__(
        self,
        size=None,
        fit='contain',
        rotate=0,
        auto_orient=True,
        background='white',
        output_format='jpeg',
        quality=85,
        progressive=False,
    ):
        if size is not None:
            size = tuple(size)
            if len(size) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size):
                raise SpecError('size', 'size must be two positive integers [width, height], got %r' % (list(size),))
        if fit not in FITS:
            raise SpecError('fit', 'fit must be one of %s, got %r' % (', '.join(FITS), fit))
        if rotate not in ROTATIONS:
            raise SpecError('rotate', 'rotate must be one of 0, 90, 180, 270 (degrees clockwise), got %r' % (rotate,))
        if output_format not in FORMATS:
            raise SpecError('format', 'format must be one of %s, got %r' % (', '.join(FORMATS), output_format))
        if not isinstance(quality, int) or isinstance(quality, bool) or not 1 <= quality <= 100:
            raise SpecError('quality', 'quality must be an integer from 1 to 100, got %r' % (quality,))
        self.size = size
        self.fit = fit
        self.rotate = rotate
        self.auto_orient = bool(auto_orient)
        self.background = parse_color(background)
        self.format = output_format
        self.quality = quality
        self.progressive = bool(progressive)
        self._fingerprint = None

    def as_dict(self):
        return {
            'size': list(self.size) if self.size else None,
            'fit': self.fit,
            'rotate': self.rotate,
            'auto_orient': self.auto_orient,
            'background': list(self.background),
            'format': self.format,
            'quality': self.quality,
            'progressive': self.progressive,
        }

    @classmethod
    def from_dict(cls, data):
        return cls(
            size=data['size'],
            fit=data['fit'],
            rotate=data['rotate'],
            auto_orient=data['auto_orient'],
            background=tuple(data['background']),
            output_format=data['format'],
            quality=data['quality'],
            progressive=data['progressive'],
        )

    def fingerprint(self):
        """Stable hash of every option that changes the output, plus the pipeline version."""
        if self._fingerprint is None:
            data = dict(self.as_dict(), pipeline=PIPELINE_VERSION)
            # options that cannot change this output do not count
            if self.size is None:
                data['fit'] = None
            if self.format != 'jpeg':
                data['progressive'] = None
            if self.format == 'png':
                data['quality'] = None
            self._fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True).encode('utf-8')).hexdigest()
        return self._fingerprint


def parse_color(value):
    """'white', '#fff', 'rgb(1,2,3)' or an (r, g, b) sequence -> (r, g, b). Must be opaque."""
    if isinstance(value, (tuple, list)):
        rgb = tuple(value)
        if len(rgb) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in rgb):
            return rgb
        raise SpecError('background', 'background must be three integers 0-255, got %r' % (value,))
    try:
        rgb = ImageColor.getrgb(str(value))
    except ValueError:
        raise SpecError(
            'background',
            'background %r is not a colour Pillow understands (try a name like "white" or "#ffffff")' % (value,),
        )
    if len(rgb) == 4:
        if rgb[3] != 255:
            raise SpecError(
                'background', 'background must be opaque: transparency is flattened onto it, got %r' % (value,)
            )
        rgb = rgb[:3]
    return tuple(rgb)


def transposes(orientation, rotate):
    """Pillow transpose names for the EXIF ``orientation`` (None/1: upright) then ``rotate`` clockwise."""
    return _EXIF_TRANSPOSE.get(orientation or 1, ()) + _CLOCKWISE.get(rotate, ())


_INVERSE = {'ROTATE_90': 'ROTATE_270', 'ROTATE_270': 'ROTATE_90'}  # the others undo themselves


def plan_transposes(spec, orientation, applied=None):
    """Transposes for pixels still stored with EXIF ``orientation``, or already turned upright
    by the decoder per ``applied`` (Pillow does that for TIFF): honours ``auto_orient`` either way."""
    if spec.auto_orient:
        names = _EXIF_TRANSPOSE.get(orientation or 1, ())
    else:
        names = tuple(_INVERSE.get(name, name) for name in reversed(_EXIF_TRANSPOSE.get(applied or 1, ())))
    return names + _CLOCKWISE.get(spec.rotate, ())


_DECODER_ORIENTS = {}


def decoder_orients(fmt):
    """True when Pillow itself turns images of format ``fmt`` upright on load (TIFF, in recent Pillow)."""
    if fmt not in _DECODER_ORIENTS:
        try:
            exif = Image.Exif()
            exif[0x0112] = 6
            buf = io.BytesIO()
            Image.new('L', (2, 1)).save(buf, fmt, exif=exif.tobytes())
            buf.seek(0)
            with Image.open(buf) as probe:
                probe.load()
                _DECODER_ORIENTS[fmt] = probe.size == (1, 2)
        except Exception:  # a format that cannot carry EXIF, or cannot be written
            _DECODER_ORIENTS[fmt] = False
    return _DECODER_ORIENTS[fmt]


def swaps_axes(names):
    return sum(1 for name in names if name in _SWAPS_AXES) % 2 == 1


def geometry(src_size, target, fit, swap):
    """Crop box in the source and output size, both in source orientation.

    ``target`` is the requested (width, height) of the *final* (rotated) image; ``swap``
    says whether the orientation + rotation exchange width and height.
    """
    width, height = src_size
    full = (0.0, 0.0, float(width), float(height))
    if target is None:
        return full, (width, height)
    tw, th = (target[1], target[0]) if swap else target
    if fit == 'exact':
        return full, (tw, th)
    if fit == 'contain':
        scale = min(tw / width, th / height)
        return full, (max(1, int(width * scale + 0.5)), max(1, int(height * scale + 0.5)))
    scale = max(tw / width, th / height)  # cover: fill the box, crop the overflow evenly
    crop_w, crop_h = tw / scale, th / scale
    x0, y0 = (width - crop_w) / 2.0, (height - crop_h) / 2.0
    return (x0, y0, x0 + crop_w, y0 + crop_h), (tw, th)


def output_size(src_size, names, spec):
    """Size of the image :func:`render` would produce, from the header alone (check mode)."""
    dummy_box, out = geometry(src_size, spec.size, spec.fit, swaps_axes(names))
    return (out[1], out[0]) if swaps_axes(names) else out


def open_image(path):
    """Open ``path`` (a file name or binary file object) lazily; raise ImageError with a reason a person understands."""
    try:
        return Image.open(path)
    except UnidentifiedImageError:
        raise ImageError('not an image file Pillow can read (unrecognised or corrupt header)')
    except Image.DecompressionBombError as exc:
        raise ImageError('refused, too many pixels: %s' % exc)
    except OSError as exc:
        raise ImageError(describe_os_error(exc, 'reading'))


def describe_os_error(exc, doing, path=None):
    """A short reason for an OSError while ``doing`` (reading, writing) ``path``."""
    path = path or exc.filename or 'the file'
    if isinstance(exc, PermissionError):
        return 'permission denied %s %s' % (doing, path)
    if getattr(exc, 'errno', None) == errno.ENOSPC:
        return 'no space left on device %s %s' % (doing, path)
    if getattr(exc, 'errno', None) is not None:
        return '%s %s: %s' % (doing, path, exc.strerror or exc)
    return 'corrupt or truncated image data (%s)' % exc


def orientation_of(im):
    try:
        tags = getattr(im, 'tag_v2', None)  # TIFF: the tag is right there, no EXIF block to build
        value = tags.get(0x0112) if tags is not None else im.getexif().get(0x0112)
    except Exception:  # a broken EXIF block must not make an otherwise good image fail
        return None
    return value if value in _EXIF_TRANSPOSE else None


def _to_8bit_grey(im, sixteen_bit):
    """16-bit, 32-bit integer or float greyscale -> 8-bit L, scaling the range instead of clipping."""
    if im.mode == 'F':
        dummy_low, high = im.getextrema()
        factor = 255.0 if high <= 1.0 else (1 / 257.0 if high > 255 else 1.0)
    else:
        if im.mode != 'I':
            im = im.convert('I')
        dummy_low, high = im.getextrema()
        # I;16 data always uses 0..65535; a 32-bit image only when its values say so.
        factor = 1 / 257.0 if sixteen_bit or high > 255 else 1.0
    return im.point(lambda v: v * factor).convert('L')


def normalise(im):
    """Return (image in L, RGB, RGBA or CMYK, has_alpha)."""
    mode = im.mode
    if mode in ('RGBA', 'LA', 'PA', 'La', 'RGBa'):
        if mode != 'RGBA':
            im = im.convert('RGBA')
        return im, True
    if mode == 'P' or (mode in ('L', 'RGB') and 'transparency' in im.info):
        if 'transparency' in im.info:
            return im.convert('RGBA'), True
        return im.convert('RGB'), False
    if mode in ('RGB', 'L', 'CMYK'):
        return im, False
    if mode == '1':
        return im.convert('L'), False
    if mode.startswith('I;16') or mode in ('I', 'F'):
        return _to_8bit_grey(im, mode.startswith('I;16')), False
    try:
        return im.convert('RGB'), False
    except ValueError:
        raise ImageError('unsupported colour mode %s' % mode)


def _straight_reduce(im, factor, box):
    """Box-average every band, alpha included, WITHOUT alpha weighting (no full-size copy).

    ``Image.reduce()`` premultiplies RGBA at full size first; here the core ``reduce`` is
    called directly, exactly as ``Image.reduce()`` itself does for other modes.
    Returns None if this Pillow does not expose it, the caller then takes the slow path.
    """
    try:
        core = im.im.reduce(factor, box)
        return im._new(core)  # pylint: disable=protected-access
    except (AttributeError, TypeError):
        return None


def flatten(im, background):
    """Composite RGBA ``im`` onto an opaque background colour (full size): RGB result."""
    out = Image.new('RGB', im.size, background)
    out.paste(im, (0, 0), im)
    return out


def _looks_grey(im):
    """Cheap first test on a 16x16 sample: a coloured pixel there settles it."""
    sample = im.resize((16, 16), Image.Resampling.NEAREST).tobytes()
    return sample[0::4] == sample[1::4] == sample[2::4]


def flatten_small(im, background, allow_grey=True):
    """:func:`flatten` for an image that is resized without reduce() (icons, small pictures).

    Grey content on a grey background (black glyph icons on white, as the course's) is
    flattened and resized as one band, a third of the work; the result is the same.
    """
    if allow_grey and background[0] == background[1] == background[2] and _looks_grey(im):
        red, green, blue, alpha = im.split()
        if ImageChops.difference(red, green).getbbox() is None and ImageChops.difference(green, blue).getbbox() is None:
            out = Image.new('L', im.size, background[0])
            out.paste(red, (0, 0), alpha)
            return out
    return flatten(im, background)


_MIXED_LUT = [0] + [255] * 254 + [0]


def reduce_flatten(im, factor, box, background):
    """``flatten(im).reduce(factor, box)`` without flattening the whole image.

    The straight (unweighted) box average of a block equals the alpha-weighted, flattened
    average within half a grey level whenever the block's mean alpha rounds to 255 (opaque)
    or to 0 (flatten gives the background). Only tiles holding blocks in between, the
    edges of the subject, are flattened at full size and reduced exactly.
    """
    straight = _straight_reduce(im, factor, box)
    if straight is None:
        return flatten(im.crop(box), background).reduce(factor)
    alpha = straight.getchannel('A')
    out = Image.new('RGB', straight.size, background)
    out.paste(straight, (0, 0), alpha)
    mixed = alpha.point(_MIXED_LUT)
    if mixed.getbbox() is None:
        return out
    kx, ky = factor
    width, height = out.size
    tiles_w = -(-width // _TILE)
    marks = mixed.reduce(_TILE).tobytes()
    for row in range(len(marks) // tiles_w):
        line = marks[row * tiles_w : (row + 1) * tiles_w]
        start = 0
        while True:
            # one crop per run of neighbouring marked tiles keeps the Python overhead low
            while start < tiles_w and not line[start]:
                start += 1
            if start == tiles_w:
                break
            end = start
            while end < tiles_w and line[end]:
                end += 1
            x0, y0 = start * _TILE, row * _TILE
            x1, y1 = min(end * _TILE, width), min(y0 + _TILE, height)
            big = (box[0] + x0 * kx, box[1] + y0 * ky, min(box[0] + x1 * kx, box[2]), min(box[1] + y1 * ky, box[3]))
            out.paste(flatten(im.crop(big), background).reduce(factor), (x0, y0))
            start = end
    return out


def _safe_box(box, out_size, size):
    """Integer box around the float ``box`` with room for the filter support (as Pillow's resize)."""
    support_x = (_FILTER_SUPPORT - 0.5) * (box[2] - box[0]) / out_size[0]
    support_y = (_FILTER_SUPPORT - 0.5) * (box[3] - box[1]) / out_size[1]
    return (
        max(0, int(box[0] - support_x)),
        max(0, int(box[1] - support_y)),
        min(size[0], int(math.ceil(box[2] + support_x))),
        min(size[1], int(math.ceil(box[3] + support_y))),
    )


def resample(im, box, out_size, has_alpha, background, allow_grey=True):
    """Crop to ``box``, scale to ``out_size`` and flatten alpha: reduce() by the integer part, then BICUBIC.

    The result is RGB, or L (CMYK) when the input was L (CMYK) or grey (see :func:`flatten_small`).
    """
    kx = max(1, int((box[2] - box[0]) / out_size[0]))
    ky = max(1, int((box[3] - box[1]) / out_size[1]))
    if kx > 1 or ky > 1:
        whole = box == (0.0, 0.0, float(im.size[0]), float(im.size[1]))
        rbox = tuple(int(v) for v in box) if whole else _safe_box(box, out_size, im.size)
        if has_alpha:
            im = reduce_flatten(im, (kx, ky), rbox, background)
        else:
            im = im.reduce((kx, ky), rbox)
        box = ((box[0] - rbox[0]) / kx, (box[1] - rbox[1]) / ky, (box[2] - rbox[0]) / kx, (box[3] - rbox[1]) / ky)
    elif has_alpha:
        im = flatten_small(im, background, allow_grey)
    if im.size == tuple(out_size) and box == (0.0, 0.0, float(out_size[0]), float(out_size[1])):
        return im
    return im.resize(tuple(out_size), Image.Resampling.BICUBIC, box=box)


_TRANSFORMS = {}


def _icc_transform(icc, in_mode, out_mode, reverse=False):
    key = (hashlib.sha256(icc).hexdigest(), in_mode, out_mode, reverse)
    if key not in _TRANSFORMS:
        if len(_TRANSFORMS) > 16:
            _TRANSFORMS.clear()
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.createProfile('sRGB')
        pair = (srgb, source) if reverse else (source, srgb)
        _TRANSFORMS[key] = ImageCms.buildTransform(pair[0], pair[1], in_mode, out_mode)
    return _TRANSFORMS[key]


def _usable_profile(icc, mode):
    """The ICC profile bytes if they must be applied to an image of ``mode``, else None."""
    if not icc or ImageCms is None:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile
    except (OSError, ImageCms.PyCMSError, TypeError, ValueError):
        return None  # unreadable profile: treat the numbers as sRGB
    space = (profile.xcolor_space or '').strip()
    if {'L': 'GRAY', 'RGB': 'RGB', 'RGBA': 'RGB', 'CMYK': 'CMYK'}.get(mode) != space:
        return None
    if space == 'RGB' and any(name in (profile.profile_description or '').lower() for name in _SRGB_NAMES):
        return None  # already sRGB
    return icc


def _background_in(icc, background):
    """The background colour expressed in the source profile, so that it is ``background`` again in sRGB."""
    try:
        pixel = ImageCms.applyTransform(Image.new('RGB', (1, 1), background), _icc_transform(icc, 'RGB', 'RGB', True))
        return pixel.getpixel((0, 0))[:3]
    except ImageCms.PyCMSError:
        return background


def to_srgb(im, icc):
    """Small image in L, RGB or CMYK (+ its ICC profile) -> RGB in sRGB."""
    if icc:
        try:
            return ImageCms.applyTransform(im, _icc_transform(icc, im.mode, 'RGB'))
        except ImageCms.PyCMSError:
            pass  # fall back on Pillow's plain conversion
    return im if im.mode == 'RGB' else im.convert('RGB')


def render(im, spec, names=()):
    """The converted image (RGB, sRGB) for an opened image ``im``; ``names`` from :func:`plan_transposes`."""
    if im.format != 'JPEG':
        im.load()  # the size may change on load (a TIFF turned upright by Pillow)
    box, out_size = geometry(im.size, spec.size, spec.fit, swaps_axes(names))
    if im.format == 'JPEG' and im.mode in ('RGB', 'L', 'CMYK'):
        # libjpeg scales by 1/2, 1/4, 1/8 while decoding; keep >= 2x the output so the
        # reduce + BICUBIC steps still do the real filtering.
        want = (
            int(math.ceil(2 * im.size[0] * out_size[0] / (box[2] - box[0]))),
            int(math.ceil(2 * im.size[1] * out_size[1] / (box[3] - box[1]))),
        )
        before = im.size
        if want[0] < before[0] and want[1] < before[1] and im.draft(im.mode, want) is not None and im.size != before:
            if box == (0.0, 0.0, float(before[0]), float(before[1])):
                box = (0.0, 0.0, float(im.size[0]), float(im.size[1]))
            else:
                sx, sy = im.size[0] / float(before[0]), im.size[1] / float(before[1])
                box = (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
    im.load()
    icc = im.info.get('icc_profile')
    im, has_alpha = normalise(im)
    icc = _usable_profile(icc, im.mode)
    background = spec.background
    if icc and has_alpha:
        background = _background_in(icc, background)
    im = resample(im, box, out_size, has_alpha, background, allow_grey=not icc)
    for name in names:
        im = im.transpose(_transpose(name))
    return to_srgb(im, icc)


def encode(im, spec):
    """Encoded bytes of the rendered image: deterministic for the same pixels and options.

    No metadata is carried over: no EXIF (the orientation is applied), no ICC profile (the
    pixels are sRGB, what a browser assumes for an untagged image).
    """
    im.info = {}
    buf = io.BytesIO()
    if spec.format == 'jpeg':
        im.save(buf, 'JPEG', quality=spec.quality, progressive=spec.progressive)
    elif spec.format == 'webp':
        im.save(buf, 'WEBP', quality=spec.quality)
    else:
        im.save(buf, 'PNG')
    return buf.getvalue()


_TIFF_TYPES = {1: 'B', 3: 'H', 4: 'I', 7: 'B'}  # BYTE, SHORT, LONG, UNDEFINED
# Tags that make a TIFF something else than one plain strip of 8-bit samples.
_TIFF_NOT_PLAIN = frozenset((317, 320, 322, 323, 324, 325, 530, 532))


def _tiff_tag(buffer, entry, kind, count):
    """Values of one little-endian IFD entry (inline when they fit in 4 bytes), or None."""
    code = _TIFF_TYPES.get(kind)
    if code is None:
        return None
    length = struct.calcsize('<' + code) * count
    if length <= 4:
        start = entry + 8
    else:
        start = struct.unpack_from('<I', buffer, entry + 8)[0]
        if start + length > len(buffer):
            return None
    if kind == 7:
        return bytes(buffer[start : start + length])
    return struct.unpack_from('<%d%s' % (count, code), buffer, start)


def plain_tiff(buffer):
    """Layout of an uncompressed, single-strip, 8-bit L/RGB/RGBA little-endian TIFF, or None.

    This is what Pillow itself writes and what the course's supplier images and icons are.
    For such a file the pixels are used in place (see :meth:`Source.for_render`) without
    Pillow's TIFF parser, which costs more than converting a whole 192x192 icon. Anything
    else (compressed, tiled, planar, 16-bit, palette, CMYK, big-endian, ...) returns None
    and goes through Pillow.
    """
    if len(buffer) < 8 or buffer[:4] != b'II*\x00':
        return None
    ifd = struct.unpack_from('<I', buffer, 4)[0]
    if ifd + 2 > len(buffer):
        return None
    count = struct.unpack_from('<H', buffer, ifd)[0]
    if ifd + 2 + 12 * count > len(buffer):
        return None
    tags = {}
    for index in range(count):
        entry = ifd + 2 + 12 * index
        tag, kind, number = struct.unpack_from('<HHI', buffer, entry)
        if tag in _TIFF_NOT_PLAIN:
            return None
        if tag in (256, 257, 258, 259, 262, 273, 274, 277, 278, 279, 284, 338, 339, 34675):
            values = _tiff_tag(buffer, entry, kind, number)
            if values is None:
                return None
            tags[tag] = values
    samples = tags.get(277, (1,))[0]
    mode = {(1, (1,)): 'L', (3, (2,)): 'RGB', (4, (2,)): 'RGBA'}.get((samples, tags.get(262)))
    if (
        mode is None
        or 256 not in tags
        or 257 not in tags
        or len(tags.get(273, ())) != 1
        or len(tags.get(279, ())) != 1
        or tags.get(258) != (8,) * samples
        or tags.get(259, (1,)) != (1,)
        or tags.get(284, (1,)) != (1,)
        or tags.get(339, (1,) * samples) != (1,) * samples
        or (mode == 'RGBA') != (tags.get(338) == (2,))
    ):
        return None
    width, height = tags[256][0], tags[257][0]
    offset, length = tags[273][0], tags[279][0]
    if (
        width < 1
        or height < 1
        or tags.get(278, (height,))[0] < height
        or length != width * height * samples
        or offset + length > len(buffer)
    ):
        return None
    return {
        'mode': mode,
        'size': (width, height),
        'offset': offset,
        'length': length,
        'orientation': tags.get(274, (None,))[0],
        'icc_profile': tags.get(34675),
    }


# Larger files may be memory-mapped instead of read (see Source).
_MAP_THRESHOLD = 4 * 1024 * 1024


class Source:
    """One source file, read once: its SHA-256 (the idempotency fingerprint) and the image.

    Everything works on one copy of the file's bytes: the hash, Pillow's header parsing
    and, for uncompressed layouts such as the suppliers' raw RGBA TIFFs, the pixels
    themselves (a zero-copy view, no decoding).

    With ``map_large`` a file over 4 MB is memory-mapped rather than read, which saves
    copying it (about 10 ms for a 24 MB TIFF, a quarter of its conversion). Only worker
    processes do that: if another process truncates the file meanwhile, touching the lost
    pages kills the process with SIGBUS, and the pool then retries the file in a fresh
    worker; the module's own process always reads.
    """

    def __init__(self, path, map_large=False):
        self.path = path
        self._image = None
        self._map = None
        try:
            with open(path, 'rb', buffering=0) as handle:
                size = os.fstat(handle.fileno()).st_size
                if size == 0:
                    raise ImageError('empty file (0 bytes)')
                if map_large and size > _MAP_THRESHOLD:
                    flags = mmap.MAP_SHARED | getattr(mmap, 'MAP_POPULATE', 0)
                    self._map = mmap.mmap(handle.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
                    self._data = self._map
                else:
                    view = memoryview(bytearray(size))
                    done = 0
                    while done < size:
                        count = handle.readinto(view[done:])
                        if not count:
                            break  # shrunk while reading: the image will show as truncated
                        done += count
                    self._data = view[:done]
        except OSError as exc:
            raise ImageError(describe_os_error(exc, 'reading'))
        self.sha256 = hashlib.sha256(self._data).hexdigest()
        self._plain = plain_tiff(self._data)

    def plan(self, spec):
        """(width, height) of the pixels :meth:`for_render` gives and the transposes they need."""
        if self._plain is not None:
            orientation = self._plain['orientation']
            return self._plain['size'], plan_transposes(spec, orientation if orientation in _EXIF_TRANSPOSE else None)
        im = self.image()
        orientation = orientation_of(im)
        if orientation is not None and decoder_orients(im.format):
            width, height = im.tag_v2[256], im.tag_v2[257]
            size = (height, width) if orientation >= 5 else (width, height)
            return size, plan_transposes(spec, None, applied=orientation)
        return im.size, plan_transposes(spec, orientation)

    def image(self):
        """The opened image (header parsed, pixels not loaded yet)."""
        if self._image is None:
            self._image = open_image(io.BytesIO(self._data))
        return self._image

    def for_render(self):
        """The image to render: a zero-copy view of the file's bytes when the pixels are stored
        raw (uncompressed, one strip, top-down, in Pillow's own layout), as in the suppliers'
        TIFFs; else the opened image itself (decoded by :func:`render`, after a possible ``draft()``)."""
        buffer = self._data
        if self._plain is not None:
            plain = self._plain
            view = memoryview(buffer)[plain['offset'] : plain['offset'] + plain['length']]
            flat = Image.frombuffer(plain['mode'], plain['size'], view, 'raw', plain['mode'], 0, 1)
            flat.info = {'icc_profile': plain['icc_profile']} if plain['icc_profile'] else {}
            flat.format = 'TIFF'
            return flat
        im = self.image()
        tile = im.tile[0] if len(im.tile) == 1 and orientation_of(im) is None else None
        if tile is not None and tile[0] == 'raw' and im.mode in ('L', 'RGBA', 'RGBX', 'CMYK') and len(tile[3]) >= 3:
            rawmode, stride, direction = tile[3][:3]
            bands = len(im.getbands())
            width, height = im.size
            offset = tile[2]
            if (
                rawmode == im.mode
                and direction == 1
                and stride in (0, width * bands)
                and tuple(tile[1]) == (0, 0, width, height)
                and offset + width * bands * height <= len(buffer)
            ):
                view = memoryview(buffer)[offset : offset + width * bands * height]
                flat = Image.frombuffer(im.mode, im.size, view, 'raw', rawmode, 0, 1)
                flat.info = dict(im.info)
                flat.format = im.format
                return flat
        return im

    def close(self):
        if self._image is not None:
            self._image.close()
            self._image = None
        self._plain = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:
                pass  # a view of it is still referenced: it is unmapped with the last one
            self._map = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _image_error(exc):
    if isinstance(exc, ImageError):
        return exc
    if isinstance(exc, Image.DecompressionBombError):
        return ImageError('refused, too many pixels: %s' % exc)
    if isinstance(exc, OSError) and getattr(exc, 'errno', None):
        return ImageError(describe_os_error(exc, 'reading'))
    return ImageError('corrupt or truncated image data (%s)' % (exc or type(exc).__name__))


def convert_source(source, spec):
    """Convert an opened :class:`Source`: return (encoded bytes, (width, height))."""
    try:
        dummy_size, names = source.plan(spec)
        out = render(source.for_render(), spec, names)
        return encode(out, spec), out.size
    except (ImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error) as exc:
        raise _image_error(exc)


def probe_source(source, spec):
    """Header-only check (check mode): the (width, height) the output would have, or ImageError."""
    try:
        size, names = source.plan(spec)
        return output_size(size, names, spec)
    except (ImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error) as exc:
        raise _image_error(exc)
