"""Requests that try to smuggle a second request past a parser, or are malformed at the edges of
HTTP/1.1 (shared by the protocol's unit tests and the reliability suite's real server). Every one
must get 400 and never a second response."""

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"

SMUGGLING = [
    # CL.TE and TE.CL
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\n" + SMUGGLED + b"0\r\n\r\n",
    # TE.TE with odd spellings
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding\r\n : chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    # duplicate and signed Content-Length
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 37\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +37\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0, 37\r\n\r\n" + SMUGGLED,
    # obs-fold, NUL, bare CR and bare LF in the head
    b"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n  folded\r\n\r\n" + SMUGGLED,
    b"GET / HTTP/1.1\r\nHost: t\r\nX: a\x00b\r\n\r\n" + SMUGGLED,
    b"GET / HTTP/1.1\r\nHost: t\r\nX: a\rContent-Length: 37\r\n\r\n" + SMUGGLED,
    b"GET / HTTP/1.1\r\nHost: t\nContent-Length: 37\r\n\r\n" + SMUGGLED,
    # absurd lengths, bad chunk sizes and extensions
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3 ;x\r\nabc\r\n0\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;x\x00\r\nabc\r\n0\r\n\r\n" + SMUGGLED,
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n" + SMUGGLED,
    # invalid methods and versions
    b"G(T / HTTP/1.1\r\nHost: t\r\n\r\n" + SMUGGLED,
    b"GET / HTTP/1.1.1\r\nHost: t\r\n\r\n" + SMUGGLED,
    b"GET / HTTPS/1.1\r\nHost: t\r\n\r\n" + SMUGGLED,
]
