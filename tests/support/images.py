# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small real image files for tests (Pillow)."""

from __future__ import annotations

import io


def jpeg_bytes(seed, size=(60, 40), quality=90):
    """A real JPEG of one colour derived from ``seed``: other seed, other bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    colour = ((seed * 47) % 256, (seed * 91) % 256, (seed * 13) % 256)
    Image.new('RGB', size, colour).save(buffer, 'JPEG', quality=quality)
    return buffer.getvalue()
