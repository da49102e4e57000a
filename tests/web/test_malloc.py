"""web/malloc.py: the fixed mmap threshold is taken where the C library is glibc."""

from __future__ import annotations

import platform

import pytest

from etamil_server.web.malloc import fix_mmap_threshold


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_fixed_threshold():
    assert fix_mmap_threshold() is True
