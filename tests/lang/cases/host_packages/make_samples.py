"""Makes the two tiny packages these cases read (run it here to remake them; the bytes are fixed).

sample.odt: an ODF text package (``mimetype`` stored first, the rest deflated, a binary picture);
sample.docx: an OOXML word package. Both hold only text written for these tests.
"""

import zipfile

STAMP = (2026, 1, 15, 10, 30, 0)


def entry(archive: zipfile.ZipFile, name: str, data: bytes, stored: bool = False) -> None:
    info = zipfile.ZipInfo(name, STAMP)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o100644 << 16
    archive.writestr(info, data)


with zipfile.ZipFile("sample.odt", "w") as odt:
    entry(odt, "mimetype", b"application/vnd.oasis.opendocument.text", stored=True)
    entry(odt, "content.xml", "<office:text><text:p>வணக்கம் {பெயர்}</text:p></office:text>".encode())
    entry(odt, "styles.xml", b"<office:styles>" + b"<style:style/>" * 40 + b"</office:styles>")
    entry(odt, "Pictures/logo.png", bytes(range(256)))
    entry(odt, "META-INF/manifest.xml", b'<manifest:manifest><manifest:file-entry manifest:full-path="/"/></manifest:manifest>')

with zipfile.ZipFile("sample.docx", "w") as docx:
    entry(docx, "[Content_Types].xml", b'<Types><Default Extension="xml" ContentType="application/xml"/></Types>')
    entry(docx, "word/document.xml", b"<w:document><w:body><w:p><w:t>Invoice {number}</w:t></w:p></w:body></w:document>")
